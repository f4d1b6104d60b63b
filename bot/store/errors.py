"""What the store and the turn service raise, for the HTTP layer to answer in Chinese."""

from __future__ import annotations


class NotFound(LookupError):
    """No such conversation (or token)."""


class Forbidden(PermissionError):
    """The conversation belongs to another shop."""


class NeedsPerson(RuntimeError):
    """The conversation's stage vanished from the edited script: a person must take over."""


class Stale(RuntimeError):
    """The conversation's row changed since it was loaded (another instance, a command, a
    correction): the save wrote nothing, and the change is made again from a fresh read."""


# What the database drivers say most often, in Chinese (the rest is shown as the driver says it).
_DB_WORDS = (("unable to open database file", "打不开数据库文件：文件夹不存在或没有权限"),
             ("Can't load plugin: sqlalchemy.dialects:", "不认识的数据库类型 "),
             ("No module named", "不支持这种数据库，只支持 sqlite:///文件 和 postgresql://用户@主机/库"),
             ("Connection refused", "连不上数据库服务器：没有启动，或主机、端口不对"),
             ("Connect call failed", "连不上数据库服务器：没有启动，或主机、端口不对"),
             ("password authentication failed", "数据库用户名或密码不对"),
             ("file is not a database", "这个文件不是数据库：是别的文件，或者已经损坏"))


def database_reason(exc: BaseException) -> str:
    """Why a database cannot be opened, from the driver's error: in Chinese when known."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    why = first[0] if first else type(exc).__name__
    for english, chinese in _DB_WORDS:
        if english in why:
            kind = why.split(english, 1)[1].strip() if chinese.endswith(" ") else ""
            return chinese.strip() + (f"“{kind}”，可用 sqlite:///文件 或 postgresql://用户@主机/库" if kind else "")
    return why


__all__ = ["Forbidden", "NeedsPerson", "NotFound", "Stale", "database_reason"]
