"""The contract every tokenizer follows.

A tokenizer turns one modality into a token sequence and back:

* ``encode(obj_or_path) -> TokenSequence`` gives integer ids (local to the tokenizer, 0-based,
  before the unified vocabulary offsets them) plus the readable token strings;
* ``decode(ids) -> object`` gives the modality object back;
* ``config`` is a dataclass saved as JSON (``save``/``load``) that travels with a checkpoint.

Subclasses implement ``_encode`` and ``_decode``; the public methods stay here.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


class TokenizationError(ValueError):
    """A token sequence or token file that cannot be decoded; the message names the place."""


@dataclass
class TokenSequence:
    """Ids plus the readable tokens they stand for (for debugging and the token files)."""

    ids: list[int]
    tokens: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


class Tokenizer:
    """Base class: one modality <-> token ids."""

    #: short modality name used in the unified vocabulary ("lmx", "midi", "image", "audio")
    modality: ClassVar[str] = ""

    def __init__(self, config: Any = None):
        self.config = config if config is not None else self.default_config()

    # -- to override -------------------------------------------------------------------------
    @classmethod
    def default_config(cls) -> Any:
        raise NotImplementedError

    @property
    def vocab(self) -> list[str]:
        """Readable names of the ids 0..vocab_size-1 (empty for continuous front-ends)."""
        raise NotImplementedError

    def _encode(self, obj: Any) -> TokenSequence:
        raise NotImplementedError

    def _decode(self, ids: list[int]) -> Any:
        raise NotImplementedError

    # -- public ------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, obj: Any) -> TokenSequence:
        return self._encode(obj)

    def decode(self, ids: list[int]) -> Any:
        return self._decode(list(ids))

    def ids_to_tokens(self, ids: list[int]) -> list[str]:
        vocab = self.vocab
        out = []
        for i in ids:
            if not 0 <= i < len(vocab):
                raise TokenizationError(
                    f"id {i} is outside the {self.modality} vocabulary (size {len(vocab)})"
                )
            out.append(vocab[i])
        return out

    def tokens_to_ids(self, tokens: list[str]) -> list[int]:
        index = {t: i for i, t in enumerate(self.vocab)}
        out = []
        for t in tokens:
            if t not in index:
                raise TokenizationError(f"unknown {self.modality} token {t!r}")
            out.append(index[t])
        return out

    def config_dict(self) -> dict:
        return {"modality": self.modality, "config": dataclasses.asdict(self.config)}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.config_dict(), indent=2), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict) -> "Tokenizer":
        if data.get("modality") != cls.modality:
            raise ValueError(f"config is for {data.get('modality')!r}, not {cls.modality!r}")
        config_cls = type(cls.default_config())
        return cls(config_cls(**data["config"]))

    @classmethod
    def load(cls, path: str | Path) -> "Tokenizer":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
