"""What a logging call is, for every rule: the catalog's `log-methods`, `logger-names`,
`logging-modules` and `log-functions` guards."""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Optional

import libcst as cst

from poollint.catalog.model import Guards


def is_logging_call(call: cst.Call, qualified: Optional[str], guards: Guards) -> bool:
    """`logger.info(...)`, `self._log.warning(...)`, `current_app.logger.error(...)`,
    `logging.getLogger(__name__).debug(...)`, `print(...)`. `qualified`: the callee's qualified name."""
    if qualified is not None and qualified.split(".")[0] in guards.logging_modules:
        return True
    func = call.func
    if isinstance(func, cst.Name):
        return func.value in guards.log_functions
    if not isinstance(func, cst.Attribute) or func.attr.value not in guards.log_methods:
        return False
    receiver = func.value
    name = receiver.value if isinstance(receiver, cst.Name) else \
        receiver.attr.value if isinstance(receiver, cst.Attribute) else None
    return name is not None and any(fnmatchcase(name.lower(), pattern) for pattern in guards.logger_names)
