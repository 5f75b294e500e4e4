"""Reinforcement-learning pieces of Algorithm 1 (paper §3.3, §5): the replay buffer,
soft target updates, the DDPG critic target, rewards and exploration.
"""
import numpy as np

from .tf_compat import tf

DOMAINS = ("X", "Y")


def domain_of(membership):
    """Domain of a video: X for υ ∈ X; Y for υ ∈ Y ∪ Z (choice: Z's clips are
    domain-Y inputs, as in eq. 4 and 6)."""
    return "X" if membership == "X" else "Y"


class ReplayBuffer(object):
    """Replay buffer B of Algorithm 1: FIFO with fixed capacity, preallocated.

    A transition `(s, a, r, s ⧺ a, a_true, p + 1)` is stored as the state
    `s` (uint8 `[T, H, W, 3]`, right-padded; `p` valid frames), the action
    `a` (float16 `[H, W, 3]` in [-1, 1]), the reward, the real next frame
    `a_true` (uint8) and the domain index (0 = X, 1 = Y); `s'` and `p + 1` are
    derived from them in the graph. Never pickled: it restarts empty.
    """

    @staticmethod
    def nbytes(capacity, shape):
        """The memory the buffer preallocates for `capacity` transitions of clips `shape`."""
        T, H, W, C = shape
        return capacity * (T * H * W * C + H * W * C * 3 + 4 + 4 + 1)

    def __init__(self, capacity, shape):
        T, H, W, C = shape
        self.capacity = capacity
        self.states = np.zeros((capacity, T, H, W, C), np.uint8)
        self.lengths = np.zeros(capacity, np.int32)
        self.actions = np.zeros((capacity, H, W, C), np.float16)
        self.rewards = np.zeros(capacity, np.float32)
        self.true_actions = np.zeros((capacity, H, W, C), np.uint8)
        self.domains = np.zeros(capacity, np.int8)
        self.next = 0     # slot the next transition goes to
        self.size = 0

    def __len__(self):
        return self.size

    def add(self, states, lengths, actions, rewards, true_actions, domain):
        """Append a batch of transitions of one domain, overwriting the oldest."""
        for i in range(len(lengths)):
            j = self.next
            self.states[j], self.lengths[j], self.actions[j] = states[i], lengths[i], actions[i]
            self.rewards[j], self.true_actions[j] = rewards[i], true_actions[i]
            self.domains[j] = DOMAINS.index(domain)
            self.next = (j + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def count(self, domain):
        return int(np.sum(self.domains[:self.size] == DOMAINS.index(domain)))

    def sample(self, n, domain, rng):
        """`n` random transitions of `domain` (with replacement), as a dict of arrays."""
        candidates = np.flatnonzero(self.domains[:self.size] == DOMAINS.index(domain))
        if len(candidates) == 0:
            raise ValueError("no transition of domain %s in the buffer" % domain)
        idx = candidates[rng.randint(len(candidates), size=n)]
        return dict(states=self.states[idx], lengths=self.lengths[idx], actions=self.actions[idx],
                    rewards=self.rewards[idx], true_actions=self.true_actions[idx])


def update_target(target_vars, source_vars, tau):
    """One op for `θ' ← τ θ + (1 - τ) θ'` over paired variable lists (Algorithm 1).

    Pairs are matched by position and must agree in shape; `tau` = 1 is the
    hard copy done once at initialization.
    """
    if not 0.0 < tau <= 1.0:
        raise ValueError("tau must be in (0, 1], got %s" % tau)
    if len(target_vars) != len(source_vars) or not target_vars:
        raise ValueError("target and source variable lists differ in length (%d vs %d)"
                         % (len(target_vars), len(source_vars)))
    updates = []
    for target, source in zip(target_vars, source_vars):
        if target.shape.as_list() != source.shape.as_list():
            raise ValueError("shape mismatch: %s %s vs %s %s" % (
                target.name, target.shape, source.name, source.shape))
        value = source if tau == 1.0 else tau * source + (1.0 - tau) * target
        updates.append(tf.assign(target, value))
    return tf.group(*updates)


def critic_target(rewards, terminals, next_q, gamma):
    """DDPG critic target `y = r + γ (1 - terminal) Q'(s', μ'(s'))`, no gradient.

    rewards, next_q: float `[m]`; terminals: bool `[m]`.
    """
    not_done = 1.0 - tf.cast(terminals, tf.float32)
    return tf.stop_gradient(rewards + gamma * not_done * next_q)


def reward_from_loss(loss):
    """Reward of a transition from its loss L >= 0 (Algorithm 1: r = -L).

    (choice) The critics end in a ReLU (Table 1), so Q >= 0 cannot represent
    the returns of negative rewards: the reward is exp(-L) in (0, 1], which
    orders actions exactly as -L does.
    """
    return tf.exp(-loss)
