"""How the site runs in production: gunicorn's command line, in one place (the serve command, deploy/ and tests)."""

import os


def default_workers(cores: int | None = None) -> int:
    """2 × cores + 1 (gunicorn's rule of thumb for synchronous workers), at most 9: each holds a database connection."""
    return min(2 * (cores or os.cpu_count() or 1) + 1, 9)


def gunicorn_argv(*, bind: str, workers: int | None = None, timeout: int = 60, forwarded_allow_ips: str = "127.0.0.1") -> list[str]:
    return [
        "gunicorn", "config.wsgi:application",
        "--bind", bind,
        "--workers", str(workers or default_workers()),
        "--timeout", str(timeout),  # a stuck worker is killed and replaced
        "--graceful-timeout", "30",  # on restart, requests in flight get 30 s to finish
        "--max-requests", "1000", "--max-requests-jitter", "100",  # recycle workers: no slow leak lives for long
        "--forwarded-allow-ips", forwarded_allow_ips,  # only the proxy (nginx on this machine) may say it was HTTPS
        "--access-logfile", "-", "--error-logfile", "-",
    ]
