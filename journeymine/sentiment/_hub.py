"""Finding a third-party Hugging Face model: local directory, HF cache, or the hub.

:func:`resolve_model` turns a model id or path given to
:class:`~journeymine.sentiment.EmotionTagger` into a local directory: a local
Hugging Face model directory as it is, a hub id from the local cache, else a
download -- but only when :func:`offline_reason` (a network probe with a
timeout) finds the hub reachable, so an offline machine fails fast with a
message listing everything tried.
"""

from __future__ import annotations

import os
from pathlib import Path

from journeymine.exceptions import ModelNotFoundError

__all__ = ["offline_reason", "resolve_model"]


def offline_reason() -> str | None:
    """Why the Hugging Face Hub cannot be reached quickly, or None if it can.

    The offline switches ``$HF_HUB_OFFLINE`` and ``$TRANSFORMERS_OFFLINE`` are
    honoured; otherwise one TCP connection to the hub's host (``$HF_ENDPOINT``)
    is tried for at most about four seconds.
    """
    import socket

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return f"${var} is set"
    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("//")[-1].split("/")[0]
    import threading

    result: list[str | None] = ["timed out"]

    def probe() -> None:  # in a thread: name resolution has no timeout of its own
        try:
            socket.create_connection((host, 443), timeout=3).close()
            result[0] = None
        except OSError as exc:
            result[0] = exc.__class__.__name__

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout=4)
    if result[0] is not None:
        return f"{host} is not reachable ({result[0]})"
    return None


def resolve_model(model: str) -> str:
    """The local directory of a Hugging Face model: ``model`` itself, the HF cache, or a download.

    Parameters
    ----------
    model : str
        A local directory or a hub id.

    Returns
    -------
    str
        A directory loadable with ``from_pretrained(..., local_files_only=True)``.

    Raises
    ------
    ModelNotFoundError
        ``model`` is a directory without ``config.json``, or a hub id that is
        neither cached nor downloadable.
    """
    from transformers import AutoConfig

    tried = []
    local = Path(model).expanduser()
    if local.exists():
        if not (local / "config.json").is_file():
            raise ModelNotFoundError(
                f"{str(local)!r} exists but has no config.json, so it is not a Hugging "
                "Face model directory.",
                expected="a directory written by save_pretrained (config.json, weights, "
                "tokenizer files).",
                fix="Pass the directory that holds config.json.",
            )
        return str(local)
    tried.append(f"local directory {str(local)!r} (does not exist)")
    try:
        AutoConfig.from_pretrained(model, local_files_only=True)
        from huggingface_hub import snapshot_download

        return snapshot_download(model, local_files_only=True)
    except Exception:
        tried.append("the local Hugging Face cache (not there)")
    reason = offline_reason()
    if reason is None:
        try:
            from huggingface_hub import snapshot_download

            return snapshot_download(model)
        except Exception as exc:
            reason = f"download failed: {exc.__class__.__name__}: {exc}"
    tried.append(f"the Hugging Face Hub ({reason})")
    raise ModelNotFoundError(
        f"Emotion model {model!r} was not found. Tried: " + "; ".join(tried) + ".",
        expected="'default', 'fast', a local Hugging Face model directory, or a hub id "
        "available offline.",
        fix="Use EmotionTagger() (works offline), or download the model once with network "
        "(huggingface-cli download ID) and retry.",
    )
