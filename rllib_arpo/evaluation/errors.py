"""The evaluation's error type: problems a user can fix, reported by ``arpo eval`` in one line.

Task-list problems have their own type, ``rollout.tasks.TaskListError``; the commands report both
the same way.
"""

from __future__ import annotations


class EvalError(Exception):
    """A problem the user can fix (unknown env or task, a bad policy, a bad bound); one line."""
