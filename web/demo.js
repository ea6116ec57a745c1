/*
 * The demo page: embeds the widget like any host page would. With WEB_DEMO_TOKENS=true the
 * web page server mints demo tokens, so "/?user=alice&team=acme" talks as alice of team acme;
 * "/#token=<JWT>" uses a token you minted yourself; plain "/" is an anonymous demo user.
 * "?lang=zh-TW" overrides the browser's language; "?transport=polling" avoids websockets.
 */
(function () {
  "use strict";
  var defaults = window.SALES_COACH_DEFAULTS || {};
  var query = new URLSearchParams(window.location.search);
  var fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  var user = query.get("user");
  var team = query.get("team");
  var config = { socketUrl: defaults.socketUrl, container: "#chat" };
  if (query.get("lang")) config.lang = query.get("lang");
  if (query.get("transport") === "polling") config.transports = ["polling"];  // e.g. behind a proxy without websockets
  var who = document.getElementById("who");

  if (defaults.demoTokens) document.getElementById("demo-users").hidden = false;
  if (fragment.get("token")) {
    config.token = fragment.get("token");
    who.textContent = "token from the URL";
  } else if (user && team && defaults.demoTokens) {
    // A host page's server would mint this for its logged-in user; asked again on every reconnect.
    config.getToken = function () {
      var url = "/demo-token?user=" + encodeURIComponent(user) + "&team=" + encodeURIComponent(team);
      return fetch(url, { cache: "no-store" }).then(function (r) {
        if (!r.ok) throw new Error("demo token: HTTP " + r.status);
        return r.json();
      }).then(function (body) { return body.token; });
    };
    who.textContent = "signed in as " + user + " @ " + team;
  } else if (defaults.demoTokens) {
    who.textContent = "anonymous";
  }
  window.demoWidget = window.SalesCoachWidget.init(config);
})();
