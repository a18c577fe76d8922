#!/usr/bin/env python3
"""Set-up and everyday commands, needing nothing but Python 3.11 and the package registries.

    python3 dev.py demo     install, migrate, load demo data, serve the staff site on 127.0.0.1:8000
    python3 dev.py test     install, then run the whole test suite (extra arguments go to pytest)
    python3 dev.py lint     ruff check
    python3 dev.py smoke    the production smoke test (deploy/smoke.py: PostgreSQL, Redis, gunicorn, Celery)
"""

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".installed"


def run(*args, check=True, **kwargs):
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], check=check, cwd=ROOT, **kwargs)


def install() -> None:
    """Create .venv and install the project with its dev extras; redo only when pyproject changes."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under the system python
        sys.exit("Python 3.11 or newer is needed / 需要 Python 3.11 或更高版本")
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pyproject = (ROOT / "pyproject.toml").read_text()
    if not STAMP.exists() or STAMP.read_text() != pyproject:
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_text(pyproject)


FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def _apt_install(*packages: str) -> None:
    """Install Debian packages when we may (root, apt); otherwise leave it to the reader of the message."""
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", check=False, env=env, stdout=subprocess.DEVNULL)
        run("apt-get", "install", "-y", "-qq", *packages, check=False, env=env, stdout=subprocess.DEVNULL)


def ensure_cjk_font() -> None:
    """Letter PDFs embed a Chinese font: fonts-noto-cjk, when no font is configured or installed."""
    if FONT.exists() or os.environ.get("ARREARS_PDF_FONT"):
        return
    _apt_install("fonts-noto-cjk")
    if not FONT.exists():
        print("fonts-noto-cjk not found: set ARREARS_PDF_FONT for letter PDFs / 未找到中文字体，生成函件前请设置 ARREARS_PDF_FONT",
              flush=True)


# What the test suite needs from Debian, and the command that shows each is there.
TEST_PACKAGES = {
    "chromium": ("chromium",),  # browser tests drive it
    "poppler-utils": ("pdftotext", "pdffonts", "pdftoppm"),  # PDF tests read letters and receipts back with it
}


def missing_test_packages(which=shutil.which, font_exists=FONT.exists, environ=os.environ) -> list[str]:
    """The Debian packages the tests would miss on this machine (a CJK font too, unless one is configured)."""
    missing = [package for package, commands in TEST_PACKAGES.items()
               if not all(which(command) for command in commands)]
    if environ.get("ARREARS_SKIP_BROWSER") and "chromium" in missing:
        missing.remove("chromium")
    # fonts-noto-cjk: letter PDFs embed it, and without it the screenshots show boxes instead of Chinese.
    if not font_exists() and not environ.get("ARREARS_PDF_FONT"):
        missing.append("fonts-noto-cjk")
    return missing


def ensure_test_packages() -> None:
    """Install what the tests need from Debian in one go, when missing and we may (root, apt)."""
    missing = missing_test_packages()
    if missing:
        _apt_install(*missing)
    for package in missing_test_packages():
        print(f"{package} not found: the tests that need it will be skipped or fail / 未找到 {package}，相关测试将跳过或失败",
              flush=True)


def parallel(args: list[str]) -> list[str]:
    """One test process per core (pytest-xdist, each with its own test database), unless asked otherwise."""
    chosen = any(a.startswith(("-n", "--numprocesses")) or a.endswith("no:xdist") for a in args)
    return [] if chosen else ["-n", "auto"]


def arrears(*args, **kwargs):
    return run(BIN / "arrears", *args, **kwargs)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "demo":
        install()
        ensure_cjk_font()
        arrears("demo", *argv[1:])
        return 0
    if command == "test":
        install()
        ensure_test_packages()
        result = run(PYTHON, "-m", "pytest", *parallel(argv[1:]), *argv[1:], check=False)
        if result.returncode == 5:
            print("pytest collected no tests: that is a failure / 没有运行任何测试", flush=True)
            return 1
        return result.returncode
    if command == "lint":
        install()
        return run(BIN / "ruff", "check", ".", check=False).returncode
    if command == "install":
        install()
        return 0
    if command == "smoke":
        install()
        return run(PYTHON, ROOT / "deploy" / "smoke.py", check=False).returncode
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
