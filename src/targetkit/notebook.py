"""The old path of `targetkit.render.notebook`, where the notebook views live now.

Existing code that imports ``targetkit.notebook`` keeps working: this module re-exports the public
names of `targetkit.render.notebook` (its ``__all__``) and nothing else. New code imports
`targetkit.render.notebook`.
"""

from targetkit.render.notebook import (
    Change,
    Changes,
    NotebookUnavailableError,
    changes,
    styled,
)

__all__ = [
    "Change",
    "Changes",
    "NotebookUnavailableError",
    "changes",
    "styled",
]
