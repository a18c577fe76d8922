"""Deployment checks of our own: `arrears check --deploy` fails where a default is unsafe in production."""

import os

from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secret_key_from_the_environment(app_configs, **kwargs):
    """The generated key lives in the data folder: fine for a demo, not for a deployment.

    A key read from a file can be copied with the folder, or committed with it (as one once was);
    production sets SECRET_KEY in its environment, kept with its other secrets.
    """
    if os.environ.get("SECRET_KEY"):
        return []
    return [Error(
        "SECRET_KEY is not set in the environment: the key generated into the data folder is for the embedded "
        "default only / 未在环境变量中设置 SECRET_KEY：数据目录中自动生成的密钥只适合演示和单机使用",
        hint="Set SECRET_KEY to a new random value of 50+ characters; never reuse a key that was ever in the repository.",
        id="arrears.E001",
    )]
