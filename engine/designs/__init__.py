"""Sequence designs as pure data: edits on a reference window, applied, validated and diffed
(``edits``). The web app stores and shows designs; the worker predicts them."""
