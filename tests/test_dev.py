"""dev.py installs what the tests need from Debian: chromium, a CJK font and poppler-utils."""

import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("dev", Path(__file__).resolve().parents[1] / "dev.py")
dev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dev)


def which_only(*present):
    return lambda command: f"/usr/bin/{command}" if command in present else None


def test_a_fresh_machine_gets_chromium_poppler_and_the_font():
    assert dev.missing_test_packages(which=which_only(), font_exists=lambda: False, environ={}) == [
        "chromium", "poppler-utils", "fonts-noto-cjk"]


def test_a_machine_with_everything_gets_nothing():
    which = which_only("chromium", "pdftotext", "pdffonts", "pdftoppm")
    assert dev.missing_test_packages(which=which, font_exists=lambda: True, environ={}) == []


@pytest.mark.parametrize("missing_command", ["pdftotext", "pdffonts", "pdftoppm"])
def test_poppler_is_installed_when_any_of_its_commands_is_missing(missing_command):
    # the three PDF tests skipped on a fresh machine use pdffonts; others read with pdftotext and pdftoppm
    present = {"chromium", "pdftotext", "pdffonts", "pdftoppm"} - {missing_command}
    assert dev.missing_test_packages(which=which_only(*present), font_exists=lambda: True, environ={}) == ["poppler-utils"]


def test_a_configured_font_or_skipped_browser_needs_no_package():
    environ = {"ARREARS_PDF_FONT": "/fonts/simsun.ttc", "ARREARS_SKIP_BROWSER": "1"}
    assert dev.missing_test_packages(which=which_only("pdftotext", "pdffonts", "pdftoppm"), font_exists=lambda: False,
                                     environ=environ) == []


def test_the_test_command_installs_them_before_pytest(monkeypatch):
    order, installed = [], []
    monkeypatch.setattr(dev, "install", lambda: order.append("install"))
    monkeypatch.setattr(dev, "missing_test_packages", lambda: [] if installed else ["poppler-utils"])
    monkeypatch.setattr(dev, "_apt_install", lambda *packages: installed.extend(packages) or order.append(("apt", packages)))
    monkeypatch.setattr(dev, "run", lambda *args, **kwargs: order.append("pytest") or type("R", (), {"returncode": 0})())
    assert dev.main(["test"]) == 0
    assert order == ["install", ("apt", ("poppler-utils",)), "pytest"]


def test_the_suite_runs_one_process_per_core_unless_told_otherwise():
    assert dev.parallel([]) == ["-n", "auto"]
    assert dev.parallel(["tests/core"]) == ["-n", "auto"]
    assert dev.parallel(["-n", "0"]) == [] and dev.parallel(["-n4"]) == [] and dev.parallel(["--numprocesses=2"]) == []
