"""The flow's parameters, and the settings they give: what ``shinchoku run`` and ``shinchoku demo`` pass to the flow
(``flow_parameters``), how the flow turns them back into settings (``flow_settings``), and the SMTP password from a
Prefect Secret block (``with_mail_password``). Prefect is imported only to read a Secret block, so that a test (and
the CLI) can use these without its start-up.
"""

from __future__ import annotations

import dataclasses
import logging
import os

from shinchoku.config import Mail, Settings
from shinchoku.settings import load_settings


def flow_parameters(settings: Settings, wait: float = 0) -> dict:
    """The flow's parameters for a run with ``settings``: the paths and the caller's overrides (the site, mail)."""
    return {"inbox": str(settings.inbox), "warehouse": str(settings.warehouse), "settle_seconds": settings.settle_seconds,
            "wait_seconds": wait, "site_build": settings.site_build, "mail": settings.mail.enabled}


def flow_settings(inbox: str | None = None, warehouse: str | None = None, settle_seconds: float | None = None,
                  site_build: bool | None = None, mail: bool = True) -> Settings:
    """The flow's settings from its parameters: the configuration, with the caller's overrides; ``mail=False`` turns
    mail off whatever [mail] says (``shinchoku demo``: its sample returns are nobody's to hear about)."""
    settings = load_settings(inbox=inbox, warehouse=warehouse, settle_seconds=settle_seconds, site_build=site_build)
    if not mail:
        return dataclasses.replace(settings, mail=Mail())
    return with_mail_password(settings)


def with_mail_password(settings):
    """Settings with the SMTP password from the Prefect Secret block that [mail] password_secret names, when mail is
    on, a user logs in, and the environment (SHINCHOKU_MAIL_PASSWORD) gives none. A block that cannot be read leaves
    no password and says why in Japanese (``password_problem``, also logged as a warning): the mail step then records
    each mail as failed with that reason, and the next run tries again."""
    mail = settings.mail
    if not (mail.enabled and mail.user and mail.password_secret) or mail.password:
        return settings
    from prefect.blocks.system import Secret

    try:
        password = Secret.load(mail.password_secret).get()
    except Exception as e:  # noqa: BLE001 - no server, no block: the mail waits, the run goes on
        problem = secret_problem(mail.password_secret, e, os.environ.get("PREFECT_API_URL"))
        logging.getLogger("shinchoku").warning("%s", problem)
        return dataclasses.replace(settings, mail=dataclasses.replace(mail, password_problem=problem))
    return dataclasses.replace(settings, mail=dataclasses.replace(mail, password=password))


def secret_problem(name: str, error: Exception, api: str | None) -> str:
    """Why the Secret block gave no password, in Japanese, the error's own words after 原文."""
    text = " ".join(str(error).split())
    head = f"Prefect の Secret ブロック {name} からパスワードを読めません"
    if not api:
        why = ("Secret ブロックは Prefect サーバーに保存されます。PREFECT_API_URL が設定されていないため、"
               "このコンピューターの一時的なサーバーを探しました。ブロックを保存した Prefect サーバーを PREFECT_API_URL"
               "(例 http://127.0.0.1:4200/api)で指定するか、パスワードを環境変数 SHINCHOKU_MAIL_PASSWORD で渡してください")
    elif "Unable to find block document" in text or type(error).__name__ == "ObjectNotFound":
        why = f"Prefect サーバー {api} にその名前のブロックがありません。password_secret の名前と、保存したサーバーを確認してください"
    else:
        why = f"Prefect サーバー {api} に接続できるかを確認してください"
    return f"{head}。{why}(原文: {type(error).__name__}: {text})"
