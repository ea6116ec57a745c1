"""Key-account sales coach: the product's own package.

Everything here is importable and testable without a running Rasa server:
language handling (`language`), quantities (`numbers`), canonical values
(`lexicon`), the NLU components (`nlu`), the account store (`store`), message
rendering (`i18n`) and caller identity (`identity`).
"""
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
CONTENT_DIR = PACKAGE_DIR / "content"
