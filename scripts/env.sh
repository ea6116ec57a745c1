# Shared environment for the scripts (sourced).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export RASA_TELEMETRY_ENABLED=false          # no telemetry or crash reports leave the machine
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"
# What the scripts create (the databases, logs, tokens under var/) is readable by this user only:
# the account store and the conversation history are confidential.
umask 077
if [ -d var ]; then
  chmod 700 var 2>/dev/null || true
  find var -maxdepth 2 -type f \( -name '*.db*' -o -name '*.log' -o -name '*token*' \) -exec chmod 600 {} + 2>/dev/null || true
fi
