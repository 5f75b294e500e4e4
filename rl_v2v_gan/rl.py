"""Algorithm 1 (paper §3.3, §5), top to bottom: the replay buffer B, the
graph's pieces (the candidate actions, `collect`, the DDPG losses, the
discriminators' losses, the target networks' soft update) and the loop that
runs them (`Algorithm1.iteration`, in numpy around three session calls).

    for each training video υ (domain d):             Trainer.run_epoch
        for each of the m = --batch_size transitions:  Algorithm1.iteration
            with probability σ1 (and B holding d): replay one from B
            else: a prefix s = υ_{k+1..k+p}, p ~ U{1..T-1};
                  a1 = P_d(s), a2 = G_d(P_d̄(G_d̄(s)));
                  a = argmax_i Q_d(s, a_i) with probability σ2, else a
                  random real frame; r from eq. (10)'s terms at a;
                  (s, a, r, s ⧺ a) into B                  collect
        critic: y = r + γ max_i Q'_d(s', a'_i); actor: max Q_d(s, a_i)
                                                        ddpg_losses
        θ' ← τθ + (1 - τ)θ'                             update_target
        D on m real clips x_{1:t}, t ~ U{1..T}           discriminator_losses
"""
import numpy as np

from . import losses, ops
from .data import to_float, to_uint8
from .objectives import judge, recycle_clip
from .tf_compat import tf

DOMAINS = ("X", "Y")
OTHER = {"X": "Y", "Y": "X"}


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


# -- the graph's pieces ------------------------------------------------------

def recycle(G_back, P_other, translated, t, **kw):
    """The translated-back frame for step t + 1 of `recycle_clip` (candidate a2), `[B, H, W, 3]`."""
    return ops.last_step(recycle_clip(G_back, P_other, translated, t, **kw), t + 1)


def candidates(nets, d, s, p, **kw):
    """The candidate actions for states `s` of domain d with p frames:
    `a1 = P_d(s)`, `a2 = G_d(P_d̄(G_d̄(s)))`, each `[B, H, W, 3]`."""
    P_d, G_d = getattr(nets, "P_" + d), getattr(nets, "G_" + d)
    P_o, G_o = getattr(nets, "P_" + OTHER[d]), getattr(nets, "G_" + OTHER[d])
    a1 = ops.last_step(P_d(s, lengths=p, **kw), p)
    a2 = recycle(G_d, P_o, G_o(s, lengths=p, **kw), p, **kw)
    return a1, a2


def score_candidates(Q, s, p, a1, a2, **kw):
    """`(Q(s, a1), Q(s, a2))` in one critic call on the stacked batch."""
    q = Q(tf.concat([s, s], 0), tf.concat([a1, a2], 0), lengths=tf.concat([p, p], 0), **kw)
    return tf.split(q, 2, axis=0)


def collect(nets, d, inputs, args):
    """New transitions for states `s` (p frames) of domain d: the candidates,
    the greedy-by-Q (or the given random) action and its reward from
    `losses.transition_loss`; every network in inference mode.
    inputs: s `[B, T, H, W, 3]` (right-padded), p `[B]`, greedy `[B]` bool,
    random_a, a_true `[B, H, W, 3]` (see `TrainGraph._collect_step`)."""
    s, p = inputs["s"], inputs["p"]
    T = s.shape.as_list()[1]
    a1, a2 = candidates(nets, d, s, p, is_training=False)
    q1, q2 = score_candidates(getattr(nets, "Q_" + d), s, p, a1, a2, is_training=False)
    a = tf.where(inputs["greedy"], tf.where(q1 >= q2, a1, a2), inputs["random_a"])
    D = getattr(nets, "D_" + d)
    video, lengths = ops.append_frame(s, p, a)
    video_logits = D(video, lengths=lengths, is_training=False)
    frame_logits = (video_logits if args.frame_terms == "prefix"    # a judged after s (`judge`)
                    else D(a[:, None], is_training=False))
    loss = losses.transition_loss(d, frame_logits, video_logits, a, a2, inputs["a_true"],
                                  tf.equal(p + 1, T), args.weights, args.gan_loss)
    return {"action": a, "reward": reward_from_loss(loss), "q1": q1, "q2": q2}


def ddpg_losses(nets, targets, d, s, p, a, r, gamma):
    """DDPG on transitions `(s, a, r, s ⧺ a)` of domain d, `[B]` batches with
    p valid frames in s: the critic's TD error `critic_td`, the mean of
    (y - Q_d(s, a))² for y = r + γ (1 - terminal) max_i Q'_d(s', a'_i) over
    the target networks' two candidates a'_i at s' = s ⧺ a (terminal: s' is
    a whole clip); the actor's objective, the mean of Q_d(s, a1) + Q_d(s, a2)
    over the policy's candidates at s (maximized through both); and the mean
    Q_d(s, a) `q`."""
    T = s.shape.as_list()[1]
    s_next, p_next = ops.append_frame(s, p, a)
    terminal = tf.equal(p_next, T)
    p_next = tf.minimum(p_next, T - 1)    # terminal rows: masked out of the target
    q_next = tf.maximum(*score_candidates(
        getattr(targets, "Q_" + d), s_next, p_next,
        *candidates(targets, d, s_next, p_next, is_training=False), is_training=False))
    y = critic_target(r, terminal, q_next, gamma)
    Q = getattr(nets, "Q_" + d)
    q = Q(s, a, lengths=p)
    q_mu = score_candidates(Q, s, p, *candidates(nets, d, s, p, update_stats=False),
                            update_stats=False)
    return {"critic_td": tf.reduce_mean(tf.square(y - q)),
            "actor_objective": tf.reduce_mean(q_mu[0] + q_mu[1]), "q": tf.reduce_mean(q)}


def discriminator_losses(nets, d, inputs, args):
    """D's losses on real clips of domain d and their translations (the last
    line of Algorithm 1), `(frame d_loss, video d_loss)`: the frame terms of
    eq. (1)-(2) on clips with t < T (B̂2), the video terms of eq. (8)-(9) on
    clips with t = T (B̂1). Real clips give the real side of d's equations,
    their translations the generated side of the other domain's; the Z_hat
    style term of eq. (1) is in every step. The step minimizes their sum:
    Algorithm 1 updates D by ∂(L − λ_v L_v)/∂D on B̂2 and by ∂L_v/∂D on B̂1,
    so the video terms weigh 1 here whatever λ_v (in eq. 10's pre-training
    they weigh λ_v, `objectives._part`).

    inputs: clips `[B, T, H, W, 3]` with t `[B]` (1..T) valid frames; style
    `[B]` marks Z clips (d = Y): their real video term is D_Y,1's and they
    give no real frames to D_Y,0; z_hat `[N, H, W, 3]`.
    """
    clips, t, form = inputs["clips"], inputs["t"], args.gan_loss
    T = clips.shape.as_list()[1]
    frame_mask = tf.sequence_mask(t, T, tf.float32) * tf.cast(t < T, tf.float32)[:, None]
    video_mask = tf.cast(tf.equal(t, T), tf.float32)
    fake = tf.stop_gradient(getattr(nets, "G_" + OTHER[d])(clips, is_training=False))
    real_frames, real_video = judge(getattr(nets, "D_" + d), clips, args.frame_terms, t)
    fake_frames, fake_video = judge(getattr(nets, "D_" + OTHER[d]), fake, args.frame_terms, t)
    style = nets.D_Y(inputs["z_hat"][:, None])
    if d == "X":    # x real for D_X; G_Y(x) generated for D_Y
        frame = (losses.L_g_X(real_frames, mask_real=frame_mask, form=form).d_loss
                 + losses.L_g_Y(d_y_style=style, d_y_fake=fake_frames, mask_fake=frame_mask,
                                form=form).d_loss)
        video = (losses.L_vX(real_video, mask_real=video_mask, form=form).d_loss
                 + losses.L_vY(d_y_fake=fake_video, mask_fake=video_mask, form=form).d_loss)
    else:           # y, z real for D_Y; G_X(y), G_X(z) generated for D_X
        is_z = tf.cast(inputs["style"], tf.float32)
        frame = (losses.L_g_Y(real_frames, style, mask_real=frame_mask * (1.0 - is_z)[:, None],
                              form=form).d_loss
                 + losses.L_g_X(d_x_fake=fake_frames, mask_fake=frame_mask, form=form).d_loss)
        video = (losses.L_vY(real_video, real_video, mask_real=video_mask * (1.0 - is_z),
                             mask_style=video_mask * is_z, form=form).d_loss
                 + losses.L_vX(d_x_fake=fake_video, mask_fake=video_mask, form=form).d_loss)
    return frame, video


# -- the loop ----------------------------------------------------------------

def random_prefixes(clip, n, rng):
    """n states from one clip `[T, H, W, 3]`: prefixes s = clip[k : k + p] of
    p ~ U{1..T-1} frames at random starts k, right-padded to T, with the real
    next frame `clip[k + p]`. Returns (states `[n, T, H, W, 3]`, p `[n]`, a_true)."""
    T = clip.shape[0]
    p = rng.randint(1, T, n)
    start = np.array([rng.randint(0, T - k) for k in p])
    states = np.zeros((n,) + clip.shape, np.float32)
    for j in range(n):
        states[j, :p[j]] = clip[start[j]:start[j] + p[j]]
    return states, p, clip[start + p]


class Algorithm1(object):
    """Algorithm 1's inner loop around the graph's calls (`model.TrainGraph`
    phase "rl": `collect[d]`, `ddpg[d]`, `d_update[d]`, `soft_update`).

    g: the graph; sampler: `data.Sampler` of the training clips; args:
    the `config.Flags` (σ1, σ2, the buffer's size, m = batch size); run:
    `run(fetches, feed)`, a session call. The buffer starts empty.
    """

    def __init__(self, g, sampler, args, run):
        self.g, self.sampler, self.args, self.run = g, sampler, args, run
        self.buffer = ReplayBuffer(args.buffer_size, args.spec.input_shape)

    def new_transitions(self, clip, d, n, rng):
        """n transitions from states of the clip υ (the inner `else`): prefixes,
        the greedy action with probability σ2 (else a random real frame), the
        reward; stored in B."""
        states, p, a_true = random_prefixes(clip, n, rng)
        i = self.g.collect[d].inputs
        out = self.run(self.g.collect[d].metrics, {
            i["s"]: states, i["p"]: p, i["greedy"]: rng.rand(n) < self.args.sigma2,
            i["random_a"]: self.sampler.frames(n), i["a_true"]: a_true})
        self.buffer.add(to_uint8(states), p, out["action"], out["reward"], to_uint8(a_true), d)
        return dict(states=states, lengths=p, actions=out["action"], rewards=out["reward"])

    def iteration(self, video, rng):
        """One iteration for the training video υ (`(membership, index)`):
        m transitions (each replayed from B with probability σ1 once B holds
        υ's domain, else new), the DDPG critic and actor update on them, the
        discriminator update on m real clips of υ's membership with random t
        (t = T: whole videos) and the soft target update. Returns its metrics."""
        membership, index = video
        d, m, T = domain_of(membership), self.args.batch_size, self.args.spec.input_shape[0]
        replay = int(np.sum(rng.rand(m) < self.args.sigma1)) if self.buffer.count(d) else 0
        parts = []
        if replay < m:
            parts.append(self.new_transitions(self.sampler.clip_at(membership, index), d,
                                              m - replay, rng))
        if replay:
            old = self.buffer.sample(replay, d, rng)
            parts.append(dict(states=to_float(old["states"]), lengths=old["lengths"],
                              actions=old["actions"], rewards=old["rewards"]))
        batch = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        step = self.g.ddpg[d]
        i = step.inputs
        _, metrics = self.run([step.op, step.metrics], {
            i["s"]: batch["states"], i["p"]: batch["lengths"], i["a"]: batch["actions"],
            i["r"]: batch["rewards"]})
        # The D update, and θ' ← τθ + (1 - τ)θ' for the DDPG update just made
        # (D has no target), in one call.
        step = self.g.d_update[d]
        i = step.inputs
        _, _, _, disc = self.run([step.op, self.g.advance, self.g.soft_update, step.metrics], {
            i["clips"]: self.sampler.clips(membership, m), i["t"]: rng.randint(1, T + 1, m),
            i["style"]: np.full(m, membership == "Z"), i["z_hat"]: self.sampler.images(m)})
        metrics.update(disc)
        metrics["replayed"] = replay
        return metrics
