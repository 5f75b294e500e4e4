"""The input pipeline of training and evaluation: random batches as float32 in [-1, 1].

Batches are gathered straight from the memory-mapped uint8 arrays and
converted with numpy; at T = 16, 64 x 64 this gives thousands of clips per
second on one core (bench/data_pipeline.py), far more than a training step
consumes, so there is no prefetch thread.
"""
import numpy as np

from ..errors import UserError

VIDEO_DOMAINS = ("X", "Y", "Z")
TARGET_DOMAINS = ("Y", "Z")     # what `--max_target_clips` limits


def to_float(u8):
    """uint8 [0, 255] => float32 [-1, 1]."""
    return np.asarray(u8, np.float32) / np.float32(127.5) - np.float32(1.0)


def to_uint8(f):
    """float [-1, 1] (clipped) => uint8 [0, 255]; inverts `to_float` exactly."""
    return np.rint((np.clip(f, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


class Sampler(object):
    """Random clips, prefixes, frames and images of one split of a `Dataset`.

    Algorithm 1 draws its states (video prefixes), its exploratory actions
    (a random real frame of X ∪ Y ∪ Z ∪ Ẑ) and the discriminator batches B̂
    from here. Same seed, same sequence of batches. `max_target_clips` N > 0
    (`--max_target_clips`, the few-shot setting): only the first N clips of
    Y and of Z exist for the sampler, in every draw; X and Ẑ are unchanged.
    """

    def __init__(self, dataset, seed=0, split="train", max_target_clips=0):
        self.dataset, self.split = dataset, split
        self.rng = np.random.RandomState(seed % 2 ** 32)
        self._clips = {d: dataset.clips(d, split) for d in VIDEO_DOMAINS}
        for d in TARGET_DOMAINS if max_target_clips else ():
            if len(self._clips[d]) < max_target_clips:
                raise UserError("--max_target_clips %d: %s has only %d %s clips of %s"
                                % (max_target_clips, dataset.root, len(self._clips[d]), split, d))
            self._clips[d] = self._clips[d][:max_target_clips]
        self._images = dataset.images(split)
        _, H, W, C = dataset.shape
        # X ∪ Y ∪ Z ∪ Ẑ as frame arrays (views of the memory maps), for `frames`.
        self._frame_pools = [a.reshape(-1, H, W, C) for a in list(self._clips.values())
                             + [self._images] if len(a)]
        sizes = [len(p) for p in self._frame_pools]
        self._pool_ends = np.cumsum(sizes, dtype=np.int64)
        self._pool_starts = self._pool_ends - sizes

    def _indices(self, n, batch, what):
        if not n:
            raise UserError("%s: the %s split has no %s" % (self.dataset.root, self.split, what))
        return self.rng.randint(0, n, size=batch)

    def clips(self, domain, batch):
        """float32 [batch, T, H, W, 3]: random clips of domain "X", "Y" or "Z"."""
        clips = self._clips[domain]
        return to_float(clips[self._indices(len(clips), batch, domain + " clips")])

    def clip_at(self, domain, index):
        """float32 [T, H, W, 3]: clip `index` of `domain`."""
        return to_float(self._clips[domain][index])

    def frames(self, batch):
        """float32 [batch, H, W, 3]: frames drawn uniformly from all frames of X, Y, Z and Ẑ."""
        picks = self._indices(sum(len(p) for p in self._frame_pools), batch, "frames")
        pools = np.searchsorted(self._pool_ends, picks, side="right")
        return to_float(np.stack([self._frame_pools[p][i - self._pool_starts[p]]
                                  for p, i in zip(pools, picks)]))

    def images(self, batch):
        """float32 [batch, H, W, 3]: random target-style images Ẑ."""
        return to_float(self._images[self._indices(len(self._images), batch, "Z_hat images")])

    def videos(self):
        """[(domain, index)] for every clip of X, Y and Z in this split (Algorithm 1's υ)."""
        return [(d, i) for d in VIDEO_DOMAINS for i in range(len(self._clips[d]))]
