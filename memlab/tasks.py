"""Algorithmic tasks in the formats of the NTM paper (Graves et al. 2014, section 4) and more.

Every task returns a :class:`Batch`; time runs along axis 1. Each sample draws its own length,
so its output phase starts right after its own delimiter, and shorter samples are padded with
zeros at the end. ``mask`` is 1.0 exactly on the output steps that the loss and the metrics
count: a target of 0 is always a data value, never "no output yet".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from memlab.validation import integer

Device = Union[str, torch.device, None]


class Batch(NamedTuple):
    """One batch of a task: B samples of T steps, time along axis 1."""

    inputs: Tensor  #: [B, T, input_size]
    targets: Tensor  #: [B, T, output_size], 0 where mask is 0
    mask: Tensor  #: [B, T], 1.0 on the output steps that count

    def to(self, device: Device) -> Batch:
        """The same batch with every tensor on ``device`` (a torch device or its name)."""
        return Batch(*(tensor.to(device) for tensor in self))


def stack_batches(batches) -> Batch:
    """One Batch of sum(B) samples and max(T) steps from Batches of one task, zero-padded."""
    batches = list(batches)
    steps = max(batch.mask.shape[1] for batch in batches)

    def pad(tensor: Tensor) -> Tensor:
        extra = steps - tensor.shape[1]
        return F.pad(tensor, (0, 0, 0, extra) if tensor.dim() == 3 else (0, extra))

    return Batch(*(torch.cat([pad(part) for part in parts]) for parts in zip(*batches)))


def _check_range(low_name: str, low: int, high_name: str, high: int, minimum: int) -> None:
    integer(low_name, low, minimum)
    integer(high_name, high, minimum)
    if high < low:
        raise ValueError(f"{high_name} must be >= {low_name} ({low}), got {high}")


def _randint(low: int, high: int, size: tuple, generator, device) -> Tensor:
    """Integers drawn uniformly from [low, high], both ends included."""
    return torch.randint(low, high + 1, size, generator=generator, device=device)


def _take(sequence: Tensor, index: Tensor, keep: Tensor) -> Tensor:
    """sequence [B, S, C] at index [B, T] or [T] where keep [B, T], else 0: [B, T, C]."""
    index = index.expand(keep.shape).clamp(0, sequence.shape[1] - 1)
    picked = sequence.gather(1, index[..., None].expand(-1, -1, sequence.shape[2]))
    return picked * keep[..., None]


class _Task:
    """Shared batch entry point: checks the arguments, then calls ``_generate``."""

    name: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, Any]]  # every task is a dataclass

    def batch(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        device: Device = None,
    ) -> Batch:
        """A fresh batch of ``batch_size`` samples.

        Args:
            batch_size: B, at least 1.
            generator: the source of randomness (None: the global one); the batch is drawn on
                its device.
            device: where the batch goes (None: the generator's device).

        Returns:
            A Batch of inputs [B, T, input_size], targets [B, T, output_size] and mask [B, T].
        """
        integer("batch_size", batch_size, 1)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ValueError(
                f"generator must be a torch.Generator or None, got {type(generator).__name__}"
            )
        rng_device = generator.device if generator is not None else torch.device("cpu")
        batch = self._generate(batch_size, generator, rng_device)
        return batch if device is None else batch.to(device)

    def _generate(self, batch_size: int, generator, device) -> Batch:
        raise NotImplementedError

    def at_length(self, length: int):
        """A copy of the task with min_length = max_length = ``length`` (what evaluate varies)."""
        return dataclasses.replace(self, min_length=length, max_length=length)


@dataclass(frozen=True)
class CopyTask(_Task):
    """Copy (NTM paper, 4.1): a sequence of random bit vectors, a delimiter, then the sequence back.

    A batch has inputs [B, T, width + 1] (width data channels, then the delimiter channel),
    targets [B, T, width] and mask [B, T], with T = 2 * (longest length in the batch) + 1.

    Args:
        width: bits per vector.
        min_length: the shortest sequence (vectors), at least 1.
        max_length: the longest sequence, at least min_length.
    """

    width: int = 8
    min_length: int = 1
    max_length: int = 20
    name: ClassVar[str] = "copy"

    def __post_init__(self) -> None:
        integer("width", self.width, 1)
        _check_range("min_length", self.min_length, "max_length", self.max_length, 1)

    @property
    def input_size(self) -> int:
        """Channels of an input step, width + 1 (the data channels, then the delimiter)."""
        return self.width + 1

    @property
    def output_size(self) -> int:
        """Channels of a target step, width."""
        return self.width

    def _generate(self, batch_size: int, generator, device) -> Batch:
        B, W = batch_size, self.width
        length = _randint(self.min_length, self.max_length, (B,), generator, device)
        longest = int(length.max())
        bits = _randint(0, 1, (B, longest, W), generator, device).float()

        T = 2 * longest + 1
        t = torch.arange(T, device=device)  # [T]
        L = length[:, None]  # [B, 1]
        output = (t > L) & (t <= 2 * L)  # [B, T]

        inputs = torch.zeros(B, T, W + 1, device=device)
        inputs[..., :W] = _take(bits, t, t < L)
        inputs[..., W] = (t == L).float()
        targets = _take(bits, t - L - 1, output)
        return Batch(inputs, targets, output.float())


@dataclass(frozen=True)
class RepeatCopyTask(_Task):
    """Repeat copy (NTM paper, 4.2): copy a sequence ``repeats`` times, then emit an end marker.

    A batch has inputs [B, T, width + 2] (data, delimiter, repeat count), targets
    [B, T, width + 1] (data, end marker) and mask [B, T], 1 on the repeats * length data steps
    and the end-marker step. The step after the sequence carries the delimiter and
    repeats / max_repeats, so a model knows only the counts of the max_repeats it trained with.

    Args:
        width: bits per vector.
        min_length: the shortest sequence (vectors), at least 1.
        max_length: the longest sequence, at least min_length.
        min_repeats: the fewest copies asked for, at least 1.
        max_repeats: the most copies asked for, at least min_repeats; also the scale of the
            repeat-count channel.
    """

    width: int = 8
    min_length: int = 1
    max_length: int = 10
    min_repeats: int = 1
    max_repeats: int = 10
    name: ClassVar[str] = "repeat_copy"

    def __post_init__(self) -> None:
        integer("width", self.width, 1)
        _check_range("min_length", self.min_length, "max_length", self.max_length, 1)
        _check_range("min_repeats", self.min_repeats, "max_repeats", self.max_repeats, 1)

    @property
    def input_size(self) -> int:
        """Channels of an input step, width + 2 (data, delimiter, repeat count)."""
        return self.width + 2

    @property
    def output_size(self) -> int:
        """Channels of a target step, width + 1 (the data channels, then the end marker)."""
        return self.width + 1

    def _generate(self, batch_size: int, generator, device) -> Batch:
        B, W = batch_size, self.width
        length = _randint(self.min_length, self.max_length, (B,), generator, device)
        repeats = _randint(self.min_repeats, self.max_repeats, (B,), generator, device)
        bits = _randint(0, 1, (B, int(length.max()), W), generator, device).float()

        L, R = length[:, None], repeats[:, None]  # [B, 1]
        end = L + 1 + R * L  # the end-marker step
        T = int(end.max()) + 1
        t = torch.arange(T, device=device)
        delimiter = (t == L).float()  # [B, T]

        inputs = torch.zeros(B, T, W + 2, device=device)
        inputs[..., :W] = _take(bits, t, t < L)
        inputs[..., W] = delimiter
        inputs[..., W + 1] = delimiter * R / self.max_repeats
        targets = torch.zeros(B, T, W + 1, device=device)
        targets[..., :W] = _take(bits, (t - L - 1) % L, (t > L) & (t < end))
        targets[..., W] = (t == end).float()
        mask = ((t > L) & (t <= end)).float()
        return Batch(inputs, targets, mask)


@dataclass(frozen=True)
class CopyRoundsTask(CopyTask):
    """Copy rounds: several copies in one sequence, so that a small memory must be reused.

    After the repeated copy of Csordás & Schmidhuber (2019): a sample is several copy rounds in
    a row, with no reset. Round r shows L_r random vectors, a delimiter step, then L_r blank
    steps whose targets are the vectors in order (2 L_r + 1 steps). Each sample draws its number
    of rounds and each round its length; ``at_length(n)`` makes every round n vectors long.

    A memory of N slots with items_per_round <= N < min_total_items (`forces_reuse`) holds any
    one round but never all of a sample's: the slots of finished rounds must be freed and reused.

    A batch has inputs [B, T, width + 1] (data, delimiter), targets [B, T, width] and mask
    [B, T], 1 on the output steps of every round.

    Args:
        width: bits per vector.
        min_length: the shortest round (vectors), at least 1.
        max_length: the longest round, at least min_length.
        min_rounds: the fewest rounds of a sample, at least 1.
        max_rounds: the most rounds, at least min_rounds.
    """

    width: int = 6
    min_length: int = 3
    max_length: int = 6
    min_rounds: int = 3
    max_rounds: int = 4
    name: ClassVar[str] = "copy_rounds"

    def __post_init__(self) -> None:
        super().__post_init__()  # width and lengths; the sizes are the copy task's too
        _check_range("min_rounds", self.min_rounds, "max_rounds", self.max_rounds, 1)

    @property
    def items_per_round(self) -> int:
        """The most vectors that must be stored at once, max_length (one round)."""
        return self.max_length

    @property
    def min_total_items(self) -> int:
        """The fewest vectors a sample writes in all, min_rounds * min_length."""
        return self.min_rounds * self.min_length

    @property
    def max_total_items(self) -> int:
        """The most vectors a sample writes in all, max_rounds * max_length."""
        return self.max_rounds * self.max_length

    def forces_reuse(self, memory_size: int) -> bool:
        """Whether N = memory_size slots hold every round but no sample's rounds all together."""
        integer("memory_size", memory_size, 1)
        return self.items_per_round <= memory_size < self.min_total_items

    def _generate(self, batch_size: int, generator, device) -> Batch:
        B, W, K, S = batch_size, self.width, self.max_rounds, self.max_length
        rounds = _randint(self.min_rounds, self.max_rounds, (B,), generator, device)
        length = _randint(self.min_length, self.max_length, (B, K), generator, device)
        bits = _randint(0, 1, (B, K * S, W), generator, device).float()  # round r: rows r*S ..

        length = length * (torch.arange(K, device=device) < rounds[:, None])  # 0: no such round
        end = (2 * length + 1).mul(length > 0).cumsum(1)  # [B, K], the step after each round
        T = int(end[:, -1].max())
        t = torch.arange(T, device=device)  # [T]
        r = (end[:, None, :] <= t[:, None]).sum(-1).clamp(max=K - 1)  # [B, T], t's round
        L = length.gather(1, r)  # [B, T], the length of t's round
        j = t - (end.gather(1, r) - 2 * L - 1)  # [B, T], the step within the round
        inside = t < end[:, -1:]
        output = inside & (j > L)

        inputs = torch.zeros(B, T, W + 1, device=device)
        inputs[..., :W] = _take(bits, r * S + j, inside & (j < L))
        inputs[..., W] = (inside & (j == L)).float()
        targets = _take(bits, r * S + j - L - 1, output)
        return Batch(inputs, targets, output.float())


@dataclass(frozen=True, init=False)
class AssociativeRecallTask(_Task):
    """Associative recall (NTM paper, 4.3): show items, then one of them; output the next item.

    An item is ``item_length`` random vectors, each item preceded by a step on the first
    delimiter channel; the query item (never the last) is bounded on both sides by a step on the
    second, as in the paper's figure. A batch has inputs [B, T, width + 2], targets
    [B, T, width] and mask [B, T], 1 on the item_length output steps.

    Args:
        width: bits per vector.
        item_length: vectors per item.
        min_length: the fewest items, at least 2 (2 when neither it nor min_items is given).
        max_length: the most items, at least min_length (6 when neither it nor max_items is given).
        min_items: another name for min_length; give one of the two.
        max_items: another name for max_length; give one of the two.
    """

    width: int = 6
    item_length: int = 3
    min_length: int = 2
    max_length: int = 6
    name: ClassVar[str] = "associative_recall"

    def __init__(
        self,
        width: int = 6,
        item_length: int = 3,
        min_length: int | None = None,
        max_length: int | None = None,
        *,
        min_items: int | None = None,
        max_items: int | None = None,
    ) -> None:
        for name, a, b in (("min", min_length, min_items), ("max", max_length, max_items)):
            if a is not None and b is not None and a != b:
                raise ValueError(
                    f"{name}_length ({a}) and {name}_items ({b}) are the same number; give one"
                )
        fields = dict(
            width=width,
            item_length=item_length,
            min_length=next(v for v in (min_length, min_items, 2) if v is not None),
            max_length=next(v for v in (max_length, max_items, 6) if v is not None),
        )
        for name, value in fields.items():  # frozen: the fields are set once, here
            object.__setattr__(self, name, value)
        integer("width", self.width, 1)
        integer("item_length", self.item_length, 1)
        _check_range("min_length", self.min_length, "max_length", self.max_length, 2)  # items

    @property
    def min_items(self) -> int:
        """The fewest items, ``min_length``."""
        return self.min_length

    @property
    def max_items(self) -> int:
        """The most items, ``max_length``."""
        return self.max_length

    @property
    def input_size(self) -> int:
        """Channels of an input step, width + 2 (the data channels, then the two delimiters)."""
        return self.width + 2

    @property
    def output_size(self) -> int:
        """Channels of a target step, width."""
        return self.width

    def _generate(self, batch_size: int, generator, device) -> Batch:
        B, W, K = batch_size, self.width, self.item_length
        items = _randint(self.min_length, self.max_length, (B,), generator, device)
        most = int(items.max())
        # item i is rows i*K .. i*K + K - 1; the query is item 0 .. items - 2
        vectors = _randint(0, 1, (B, most * K, W), generator, device).float()
        query = (torch.rand(B, generator=generator, device=device) * (items - 1)).long()

        n, q = items[:, None], query[:, None]  # [B, 1]
        start = n * (K + 1)  # first query delimiter
        T = int(start.max()) + 2 * K + 2
        t = torch.arange(T, device=device)
        slot = t % (K + 1)  # 0: delimiter, 1..K: the item's vectors
        in_items = t < start
        in_query = (t > start) & (t <= start + K)
        output = (t >= start + K + 2) & (t <= start + 2 * K + 1)

        inputs = torch.zeros(B, T, W + 2, device=device)
        shown = _take(vectors, t // (K + 1) * K + slot - 1, in_items & (slot > 0))
        inputs[..., :W] = shown + _take(vectors, q * K + t - start - 1, in_query)
        inputs[..., W] = (in_items & (slot == 0)).float()
        inputs[..., W + 1] = ((t == start) | (t == start + K + 1)).float()
        targets = _take(vectors, (q + 1) * K + t - start - K - 2, output)
        return Batch(inputs, targets, output.float())


@dataclass(frozen=True)
class SortTask(_Task):
    """Sort: tokens in [0, vocab_size) shown one-hot, a delimiter, then the tokens sorted ascending.

    A batch has inputs [B, T, vocab_size + 1] (the one-hot token, then the delimiter channel),
    targets [B, T, vocab_size] (one-hot) and mask [B, T], with
    T = 2 * (longest length in the batch) + 1. Token 0 is a token like any other: the mask
    alone marks the output steps.

    Args:
        vocab_size: the number of distinct tokens, at least 2.
        min_length: the shortest sequence (tokens), at least 1.
        max_length: the longest sequence, at least min_length.
    """

    vocab_size: int = 8
    min_length: int = 1
    max_length: int = 8
    name: ClassVar[str] = "sort"

    def __post_init__(self) -> None:
        integer("vocab_size", self.vocab_size, 2)
        _check_range("min_length", self.min_length, "max_length", self.max_length, 1)

    @property
    def input_size(self) -> int:
        """Channels of an input step, vocab_size + 1 (the one-hot token, then the delimiter)."""
        return self.vocab_size + 1

    @property
    def output_size(self) -> int:
        """Channels of a target step, vocab_size (one-hot)."""
        return self.vocab_size

    def _generate(self, batch_size: int, generator, device) -> Batch:
        B, V = batch_size, self.vocab_size
        length = _randint(self.min_length, self.max_length, (B,), generator, device)
        longest = int(length.max())
        tokens = _randint(0, V - 1, (B, longest), generator, device)

        L = length[:, None]
        position = torch.arange(longest, device=device)
        tokens = tokens.masked_fill(position >= L, V)  # padding sorts last and one-hots to zeros
        shown = F.one_hot(tokens, V + 1)[..., :V].float()
        ordered = F.one_hot(tokens.sort(dim=1).values, V + 1)[..., :V].float()

        T = 2 * longest + 1
        t = torch.arange(T, device=device)
        output = (t > L) & (t <= 2 * L)
        inputs = torch.zeros(B, T, V + 1, device=device)
        inputs[..., :V] = _take(shown, t, t < L)
        inputs[..., V] = (t == L).float()
        targets = _take(ordered, t - L - 1, output)
        return Batch(inputs, targets, output.float())


@dataclass(frozen=True)
class _StringTask(_Task):
    """A string task: n one-hot tokens, a delimiter, then blank answer steps (``source``)."""

    vocab_size: int = 8
    min_length: int = 1
    max_length: int = 10
    categorical: ClassVar[bool] = True

    def __post_init__(self) -> None:
        integer("vocab_size", self.vocab_size, 2)
        _check_range("min_length", self.min_length, "max_length", self.max_length, 1)

    @property
    def input_size(self) -> int:
        """Channels of an input step, vocab_size + 1 (the one-hot token, then the delimiter)."""
        return self.vocab_size + 1

    @property
    def output_size(self) -> int:
        """Channels of a target step, vocab_size (one class per answer step)."""
        return self.vocab_size

    @staticmethod
    def answer_length(n: Tensor) -> Tensor:
        """Answer steps of an input of n tokens (n of any shape)."""
        return n

    @staticmethod
    def source(j: Tensor, n: Tensor) -> Tensor:
        """The input position (0-based) that answer step j (0-based) of an input of n repeats."""
        raise NotImplementedError

    def _generate(self, batch_size: int, generator, device) -> Batch:
        B, V = batch_size, self.vocab_size
        length = _randint(self.min_length, self.max_length, (B,), generator, device)
        longest = int(length.max())
        tokens = F.one_hot(_randint(0, V - 1, (B, longest), generator, device), V).float()

        T = longest + 1 + int(self.answer_length(length).max())
        t = torch.arange(T, device=device)  # [T]
        n = length[:, None]  # [B, 1]
        j = t - n - 1  # [B, T], the answer step, negative before the answer
        output = (j >= 0) & (j < self.answer_length(n))
        inputs = torch.zeros(B, T, V + 1, device=device)
        inputs[..., :V] = _take(tokens, t, t < n)
        inputs[..., V] = (t == n).float()
        targets = _take(tokens, self.source(j, n), output)
        return Batch(inputs, targets, output.float())


@dataclass(frozen=True)
class ReverseTask(_StringTask):
    """Reverse (Delétang et al. 2023, reverse_string): the n tokens back, last first.

    The n tokens are shown one-hot, then a delimiter step, then blank answer steps. A batch has
    inputs [B, T, vocab_size + 1], targets [B, T, vocab_size] (one class per answer step) and
    mask [B, T]; ``categorical``, scored by answer_accuracy as the paper scores it.

    Args:
        vocab_size: the number of distinct tokens, at least 2.
        min_length: the shortest input (tokens), at least 1.
        max_length: the longest input, at least min_length.
    """

    name: ClassVar[str] = "reverse"

    @staticmethod
    def source(j: Tensor, n: Tensor) -> Tensor:
        """Answer step j repeats input token n - 1 - j."""
        return n - 1 - j


@dataclass(frozen=True)
class DuplicateTask(_StringTask):
    """Duplicate (Delétang et al. 2023, duplicate_string): the n tokens, twice (2n answer steps).

    Its batch and its arguments are ReverseTask's.
    """

    name: ClassVar[str] = "duplicate"

    @staticmethod
    def answer_length(n: Tensor) -> Tensor:
        """2n answer steps."""
        return 2 * n

    @staticmethod
    def source(j: Tensor, n: Tensor) -> Tensor:
        """Answer step j repeats input token j mod n."""
        return j.remainder(n)


@dataclass(frozen=True)
class OddsFirstTask(_StringTask):
    """Odds first (Delétang et al. 2023, odds_first): the tokens at odd positions, then the even.

    Positions count from 1, as in the paper: x1 x2 x3 x4 x5 gives x1 x3 x5 x2 x4. Its batch
    and its arguments are ReverseTask's.
    """

    name: ClassVar[str] = "odds_first"

    @staticmethod
    def source(j: Tensor, n: Tensor) -> Tensor:
        """Answer step j repeats input token 2j, then 2(j - ceil(n/2)) + 1."""
        odds = (n + 1) // 2
        return torch.where(j < odds, 2 * j, 2 * (j - odds) + 1)


@dataclass(frozen=True)
class KeyValueTask(_Task):
    """Key-value retrieval: store pairs shown one per step, then answer a key with its value.

    Each sample shows n (key, value) pairs, one per step, then asks for every pair once in random
    order; a query step's target is the value stored with its key. Keys are distinct non-zero
    bit vectors. A DNC that writes each pair as one word must find it by the key half alone:
    the task on which the masked look-up of Csordás & Schmidhuber (2019) helps.

    Two-way (``two_way=True``, the paper's Fig. 3b): values are distinct non-zero bit vectors
    too, and each query asks by either half, drawn at random: by key (the key half shows the
    key, the value half is 0; the target is the value) or by value (the key half is 0, the
    value half shows the value; the target is the key). The half that is 0 tells the direction.

    A batch has inputs [B, T, 2 * width + 1] (key, value, query flag), targets [B, T, width]
    and mask [B, T], with T = 2 * (most pairs in the batch).

    Args:
        width: bits of a key and of a value, in [1, 16].
        min_length: the fewest pairs, at least 1.
        max_length: the most pairs, at most 2**width - 1 (the distinct non-zero keys).
        two_way: ask by key or by value (True), or by key only (False, the default).
    """

    width: int = 4
    min_length: int = 1
    max_length: int = 4
    two_way: bool = False
    name: ClassVar[str] = "key_value"

    def __post_init__(self) -> None:
        if not isinstance(self.two_way, bool):
            raise ValueError(f"two_way must be True or False, got {self.two_way!r}")
        integer("width", self.width, 1)
        if self.width > 16:
            raise ValueError(f"width must be at most 16 (keys are drawn from 2**width codes), "
                             f"got {self.width}")
        _check_range("min_length", self.min_length, "max_length", self.max_length, 1)
        if self.max_length > 2 ** self.width - 1:
            raise ValueError(f"max_length must be at most 2**width - 1 = {2 ** self.width - 1} so "
                             f"that the keys (and two-way, the values) can be distinct and "
                             f"non-zero, got {self.max_length}")

    @property
    def input_size(self) -> int:
        """Channels of an input step, 2 * width + 1 (key, value, query flag)."""
        return 2 * self.width + 1

    @property
    def output_size(self) -> int:
        """Channels of a target step, width (the value; two-way, the other half)."""
        return self.width

    def _generate(self, batch_size: int, generator, device) -> Batch:
        B, W = batch_size, self.width
        pairs = _randint(self.min_length, self.max_length, (B,), generator, device)
        longest = int(pairs.max())
        powers = 2 ** torch.arange(W - 1, -1, -1, device=device)

        def distinct_codes() -> Tensor:
            """[B, longest, W]: the first codes of a random permutation of 1 .. 2**W - 1."""
            codes = torch.rand(B, 2 ** W - 1, generator=generator, device=device).argsort(-1) + 1
            return (codes[:, :longest, None] // powers % 2).float()

        keys = distinct_codes()
        if self.two_way:
            values = distinct_codes()
        else:
            values = _randint(0, 1, (B, longest, W), generator, device).float()
        # the order of the queries: a permutation of each sample's own pairs
        unused = torch.arange(longest, device=device) >= pairs[:, None]
        order = (torch.rand(B, longest, generator=generator, device=device) + unused).argsort(-1)

        T = 2 * longest
        t = torch.arange(T, device=device)
        n = pairs[:, None]
        shown, asked = t < n, (t >= n) & (t < 2 * n)  # [B, T]
        query = order.gather(1, (t - n).clamp(0, longest - 1))  # the pair asked at step t
        by_value = torch.zeros_like(asked)  # one-way: every query asks by key
        if self.two_way:
            by_value = _randint(0, 1, (B, T), generator, device).bool() & asked
        by_key = asked & ~by_value
        inputs = torch.zeros(B, T, 2 * W + 1, device=device)
        inputs[..., :W] = _take(keys, t, shown) + _take(keys, query, by_key)
        inputs[..., W:2 * W] = _take(values, t, shown) + _take(values, query, by_value)
        inputs[..., 2 * W] = asked.float()
        targets = _take(values, query, by_key) + _take(keys, query, by_value)
        return Batch(inputs, targets, asked.float())


# the graph tasks in the paper's encoding live in memlab.graphs, which builds on this module
from memlab.graphs import ShortestPathTask, TraversalTask  # noqa: E402

Task = Union[CopyTask, RepeatCopyTask, CopyRoundsTask, AssociativeRecallTask, SortTask,
             KeyValueTask, ReverseTask, DuplicateTask, OddsFirstTask,
             TraversalTask, ShortestPathTask]

TASKS = {
    task.name: task
    for task in (CopyTask, RepeatCopyTask, CopyRoundsTask, AssociativeRecallTask, SortTask,
                 KeyValueTask, ReverseTask, DuplicateTask, OddsFirstTask,
                 TraversalTask, ShortestPathTask)
}


def make_task(name: str, **kwargs: Any) -> Task:
    """The task called ``name`` (a key of TASKS) with its parameters.

    ``make_task("copy", width=4)`` is ``CopyTask(width=4)``.
    """
    if name not in TASKS:
        raise ValueError(f"name must be one of {sorted(TASKS)}, got {name!r}")
    return TASKS[name](**kwargs)
