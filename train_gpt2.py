# train_gpt2.py: Speedrun Workbench test fixture standing in for benchmark record 3.
# Same knobs and log-line shapes as a real record script, but training is only simulated (plain python3).
import os
import sys
import glob
import math
import time
import uuid
import importlib.util
import importlib.metadata
from dataclasses import dataclass

@dataclass
class Hyperparameters:
    train_files = os.environ["NANOGPT_TRAIN_FILES"]
    val_files = os.environ["NANOGPT_VAL_FILES"]
    val_tokens = int(os.environ["NANOGPT_VAL_TOKENS"])
    batch_size : int = 8*64 # sequences per step, all GPUs
    sequence_length : int = 1024 # tokens per sequence
    num_iterations : int = 7000 # optimizer steps
    learning_rate : float = 0.0036
    warmup_iters : int = 0
    warmdown_iters : int = 2100
    val_loss_every : int = 125 # 0 = only at the end
    save_checkpoint : bool = False
args = Hyperparameters()

# What this record's GPT uses (the simulation ignores it; it makes the records differ).
MODEL = dict(
    positions="rotary",
    optimizer="muon+adam",
    grad_normalisation=True,
    muon_shard_across_gpus=False,
    vocab_size=50257,
    mlp_activation="gelu",
    qk_norm=False,
    zero_init_proj=False,
    tied_head=True,
    value_residual=False,
    embed_skip=False,
    muon_momentum_warmup=False,
    logit_softcap=None,
    activation_dtype="float32",
    unet_skips=False,
    attention="dense",
    window_warmup=False,
    value_embeds="none",
    block_window_masks=False,
    rotary_table="computed",
    n_attention_layers=12,
    fp8_head=False,
    logit_offset=False,
    fused_qkv=False,
    window_pattern="uniform",
    adam_eps=1e-8,
    batched_muon=False,
)

# Simulation knobs for tests; the real scripts have none of these.
SIM_STEP_SECONDS = float(os.environ.get("SPEEDRUN_SIM_STEP_SECONDS", "0"))
SIM_CRASH_AT_STEP = int(os.environ.get("SPEEDRUN_SIM_CRASH_AT_STEP", "-1"))
FINAL_VAL_LOSS = float(os.environ.get("SPEEDRUN_SIM_FINAL_VAL_LOSS", "3.2813"))
TOTAL_TRAIN_MS = float(os.environ.get("SPEEDRUN_SIM_TRAIN_TIME_MS", "1386147"))
UNTIMED_STEPS = 0 # the clock runs from step 0
STEP_MS = TOTAL_TRAIN_MS / (args.num_iterations - UNTIMED_STEPS)

master_process = int(os.environ.get("RANK", "0")) == 0
run_id = uuid.uuid4()
logfile = f"logs/{run_id}/log.txt"
if master_process:
    os.makedirs(os.path.dirname(logfile), exist_ok=True)
    log = open(logfile, "a", buffering=1) # line-buffered: the file follows the run

def print0(s):
    if master_process:
        print(s, flush=SIM_STEP_SECONDS > 0)

def log_file_only(s):
    if master_process:
        log.write(s + "\n")

def torch_version():
    if importlib.util.find_spec("torch") is None:
        return "not installed (simulated run)"
    return importlib.metadata.version("torch")

def simulated_loss(step):
    # Falls smoothly from about 10.8 to FINAL_VAL_LOSS at the last step.
    frac = step / args.num_iterations
    return FINAL_VAL_LOSS + (10.8 - FINAL_VAL_LOSS) * (1 - frac) ** 3

def train_time_at(step):
    return max(0, step - UNTIMED_STEPS) * STEP_MS

print0(f"Running pytorch {torch_version()}")
train_shards = sorted(glob.glob(args.train_files))
print0(f"Training DataLoader: {len(train_shards)} files match {args.train_files}")
tokens_per_step = args.batch_size * args.sequence_length

for step in range(args.num_iterations + 1):
    last_step = step == args.num_iterations
    training_time_ms = train_time_at(step)
    if last_step or (args.val_loss_every > 0 and step % args.val_loss_every == 0):
        val_loss = simulated_loss(step)
        print0(f"val loss tensor({val_loss:.4f}, device='cuda:0')")
        print0(f"step:{step}/{args.num_iterations} val_loss:{val_loss:.4f} train_time:{training_time_ms:.0f}ms")
        log_file_only(f"step:{step}/{args.num_iterations} val_loss:{val_loss:.4f} train_time:{training_time_ms:.0f}ms")
    if last_step:
        break
    if step == SIM_CRASH_AT_STEP:
        raise RuntimeError(f"simulated crash at step {step}")
    if SIM_STEP_SECONDS:
        time.sleep(SIM_STEP_SECONDS)
    train_loss = simulated_loss(step + 1) + 0.02 * math.sin(step)
    approx_time = train_time_at(step + 1)
    print0(f"step {step+1:4d}/{args.num_iterations} | train loss {train_loss:.4f} | lr_scale {1.0:.2e} | ({STEP_MS:.2f} ms | {tokens_per_step / STEP_MS * 1000:.0f} tok/s)")
    log_file_only("s:%d trl:%f" % (step, train_loss))

peak_mib = 22100 # simulated
print0(f"peak memory consumption: {peak_mib} MiB")
