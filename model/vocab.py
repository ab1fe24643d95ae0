"""The unified vocabulary: one index space for every token modality (U-MusT paper sections 2 and 2.5).

Layout of the global ids::

    0 <pad>  1 <bos>  2 <eos>  3 <unk>  4 <sep>      special tokens, fixed low ids
    [offset(m0), offset(m0) + size(m0))              one contiguous range per token modality,
    [offset(m1), offset(m1) + size(m1))              in the order given (local id + offset)
    ...

Separately, every output modality (``lmx``, ``midi``, ``image``, ``audio``) has a small
*target-modality id* (0, 1, 2, 3) that indexes the model's target-modality embedding, added to
every encoder position (paper 2.5). While decoding, :meth:`Vocabulary.modality_mask` keeps the
logits of the target modality's range (and of the allowed specials, EOS by default); for
residual-codebook modalities (image and audio codes) ``codebook=k`` narrows it to codebook ``k``.

The object is plain Python (no torch import); ``to_dict``/``from_dict``/``save``/``load`` use JSON,
and the dict also carries ``size``, ``pad``, ``bos``, ``eos``, ``unk``, ``sep`` for the trainer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>", "<sep>")
TARGET_MODALITIES = ("lmx", "midi", "image", "audio")
FORMAT_VERSION = 1


class Vocabulary:
    """Special tokens, modality ranges and target-modality ids in one index space.

    Args:
        ranges: local vocabulary size per token modality, laid out in this order.
        codebooks: for residual-codebook modalities, ``{modality: (n_codebooks, codebook_size)}``;
            local id ``k * codebook_size + c`` is code ``c`` of codebook ``k`` (extra ids after the
            codebooks, such as a separator, belong to no codebook).
        targets: the output modalities, in target-modality-id order.

    Raises:
        ValueError: a negative size, a modality clashing with a special token name, or codebooks
            that do not fit their range.
    """

    specials: tuple[str, ...] = SPECIALS

    def __init__(self, ranges: Mapping[str, int], codebooks: Mapping[str, Sequence[int]] | None = None,
                 targets: Sequence[str] = TARGET_MODALITIES):
        self._sizes: dict[str, int] = {}
        self._offsets: dict[str, int] = {}
        n = len(self.specials)
        for name, size in ranges.items():
            size = int(size)
            if size < 0:
                raise ValueError(f"modality {name!r} has a negative size {size}")
            if name in self.specials or not name:
                raise ValueError(f"bad modality name {name!r}")
            self._offsets[name], self._sizes[name] = n, size
            n += size
        self._size = n
        self._codebooks: dict[str, tuple[int, int]] = {}
        for name, (count, size) in (codebooks or {}).items():
            if name not in self._sizes:
                raise ValueError(f"codebooks given for {name!r}, which has no range")
            if count < 1 or size < 1 or count * size > self._sizes[name]:
                raise ValueError(
                    f"{count} codebooks of {size} do not fit the {self._sizes[name]} ids of {name!r}"
                )
            self._codebooks[name] = (int(count), int(size))
        if len(set(targets)) != len(targets):
            raise ValueError(f"target modalities repeat: {list(targets)}")
        self._targets = tuple(targets)

    @classmethod
    def from_tokenizers(cls, tokenizers: Iterable[Any] | Mapping[str, Any],
                        targets: Sequence[str] = TARGET_MODALITIES) -> "Vocabulary":
        """Build from tokenizers (their ``modality`` and ``vocab_size``; codebooks from the config).

        A mapping ``{modality: tokenizer}`` overrides the tokenizers' own modality names. Two
        tokenizers of one modality (e.g. continuous image front-end and image codes) keep the
        larger vocabulary.
        """
        items = (
            tokenizers.items() if isinstance(tokenizers, Mapping) else ((t.modality, t) for t in tokenizers)
        )
        ranges: dict[str, int] = {}
        codebooks: dict[str, tuple[int, int]] = {}
        for name, tok in items:
            size = int(tok.vocab_size)
            if size >= ranges.get(name, -1):
                ranges[name] = size
                config = getattr(tok, "config", None)
                count, cb = getattr(config, "n_codebooks", None), getattr(config, "codebook_size", None)
                if size and count and cb and count * cb <= size:
                    codebooks[name] = (int(count), int(cb))
                else:
                    codebooks.pop(name, None)
        return cls(ranges, codebooks, targets)

    # -- specials ----------------------------------------------------------------------------------
    def special(self, name: str) -> int:
        """Id of a special token, by name with or without brackets ("eos" or "<eos>")."""
        token = name if name.startswith("<") else f"<{name}>"
        if token not in self.specials:
            raise ValueError(f"no special token {name!r}; there are {', '.join(self.specials)}")
        return self.specials.index(token)

    pad = property(lambda self: self.special("pad"))
    bos = property(lambda self: self.special("bos"))
    eos = property(lambda self: self.special("eos"))
    unk = property(lambda self: self.special("unk"))
    sep = property(lambda self: self.special("sep"))

    # -- ranges ------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of global ids (specials plus every range)."""
        return self._size

    def __len__(self) -> int:
        return self._size

    @property
    def modalities(self) -> list[str]:
        return list(self._sizes)

    def _check(self, modality: str) -> None:
        if modality not in self._sizes:
            raise ValueError(
                f"no modality {modality!r} in the vocabulary (has {', '.join(self._sizes) or 'none'})"
            )

    def offset(self, modality: str) -> int:
        """Global id of a modality's local id 0."""
        self._check(modality)
        return self._offsets[modality]

    def range(self, modality: str) -> tuple[int, int]:
        """(start, stop) of a modality's global ids, stop exclusive."""
        self._check(modality)
        return self._offsets[modality], self._offsets[modality] + self._sizes[modality]

    def codebook_range(self, modality: str, k: int) -> tuple[int, int]:
        """(start, stop) of codebook ``k`` of a residual-codebook modality."""
        self._check(modality)
        if modality not in self._codebooks:
            raise ValueError(f"{modality!r} has no codebooks")
        count, size = self._codebooks[modality]
        if not 0 <= k < count:
            raise ValueError(f"codebook {k} is outside 0..{count - 1} of {modality!r}")
        start = self._offsets[modality] + k * size
        return start, start + size

    def to_global(self, modality: str, local_ids: Iterable[int]) -> list[int]:
        """Global ids of local ids; ValueError for a local id outside the modality's range."""
        start, stop = self.range(modality)
        out = []
        for pos, i in enumerate(local_ids):
            i = int(i)
            if not 0 <= i < stop - start:
                raise ValueError(
                    f"position {pos}: local id {i} is outside 0..{stop - start - 1} of {modality!r}"
                )
            out.append(start + i)
        return out

    def to_local(self, modality: str, global_ids: Iterable[int]) -> list[int]:
        """Local ids of global ids; ValueError for an id outside the modality's range (specials too)."""
        start, stop = self.range(modality)
        out = []
        for pos, i in enumerate(global_ids):
            i = int(i)
            if not start <= i < stop:
                raise ValueError(f"position {pos}: id {i} is not a {modality!r} id ({start}..{stop - 1})")
            out.append(i - start)
        return out

    def modality_of(self, global_id: int) -> str:
        """Modality owning a global id, or the special token's name."""
        if 0 <= global_id < len(self.specials):
            return self.specials[global_id]
        for name in self._sizes:
            start, stop = self.range(name)
            if start <= global_id < stop:
                return name
        raise ValueError(f"id {global_id} is outside the vocabulary (size {self._size})")

    def modality_mask(self, modality: str, codebook: int | None = None,
                      allow: Sequence[str] = ("eos",)) -> list[bool]:
        """Allowed global ids while generating ``modality``: its range plus the ``allow`` specials.

        Args:
            modality: the target modality.
            codebook: narrow to one codebook of a residual-codebook modality.
            allow: special tokens that stay allowed (EOS by default; add "sep" between windows).

        Returns:
            ``size`` booleans, True where the logit is kept.
        """
        start, stop = self.range(modality) if codebook is None else self.codebook_range(modality, codebook)
        mask = [False] * self._size
        mask[start:stop] = [True] * (stop - start)
        for name in allow:
            mask[self.special(name)] = True
        return mask

    # -- target modalities ---------------------------------------------------------------------------
    @property
    def target_modalities(self) -> list[str]:
        return list(self._targets)

    def target_id(self, modality: str) -> int:
        """Index of an output modality in the target-modality embedding."""
        if modality not in self._targets:
            raise ValueError(f"{modality!r} is not a target modality ({', '.join(self._targets)})")
        return self._targets.index(modality)

    # -- JSON --------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "specials": list(self.specials),
            "ranges": [{"modality": m, "offset": self._offsets[m], "size": self._sizes[m],
                        **({"codebooks": list(self._codebooks[m])} if m in self._codebooks else {})}
                       for m in self._sizes],
            "targets": list(self._targets),
            "size": self._size,
            **{name: self.special(name) for name in ("pad", "bos", "eos", "unk", "sep")},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "Vocabulary":
        """Inverse of :meth:`to_dict`; ValueError if the stored layout does not match."""
        if data.get("format") != FORMAT_VERSION or list(data.get("specials", [])) != list(cls.specials):
            raise ValueError(f"not a version-{FORMAT_VERSION} vocabulary with specials {list(cls.specials)}")
        rows = data["ranges"]
        vocab = cls({r["modality"]: r["size"] for r in rows},
                    {r["modality"]: tuple(r["codebooks"]) for r in rows if "codebooks" in r}, data["targets"])
        for r in rows:
            if vocab.offset(r["modality"]) != r["offset"]:
                raise ValueError(
                    f"stored offset of {r['modality']!r} ({r['offset']}) does not match the layout"
                )
        if vocab.size != data.get("size", vocab.size):
            raise ValueError(f"stored size {data['size']} does not match the layout ({vocab.size})")
        return vocab

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        parts = ", ".join(f"{m}={self.range(m)}" for m in self._sizes)
        return f"Vocabulary(size={self._size}, {parts})"
