"""Hugging Face peer of `genrec-bench train`: a plain PyTorch training loop of
T5ForConditionalGeneration with the same config, the same batches, AdamW and
gradient clipping. Prints examples/s (and, on CUDA, peak GPU memory) as JSON.

DEVICE=cuda runs it on the GPU with bf16 autocast (as genrec's `--bf16`),
batches page-locked and copied without blocking, losses read once at the end:
the loop a careful PyTorch user writes. THREADS sets CPU threads (default 2).
TRACE=FILE records the timed steps with torch.profiler (operations and CUDA
kernels) as a Chrome trace, as `genrec-bench train --trace` does; time a run
without it."""
import json, sys, time, os
import torch
from transformers import T5Config, T5ForConditionalGeneration

out = sys.argv[1]
dev = torch.device(os.environ.get("DEVICE", "cpu"))
cuda = dev.type == "cuda"
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
torch.manual_seed(0)
cfg = T5Config.from_pretrained(os.path.join(out, "train-model"))
model = T5ForConditionalGeneration(cfg).to(dev).train()
spec = json.load(open(os.path.join(out, "train-batches.json")))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.035)
batches = [{k: torch.tensor(v) for k, v in b.items()} for b in spec["batches"]]
if cuda:
    batches = [{k: v.pin_memory() for k, v in b.items()} for b in batches]
warmup, steps = spec["warmup"], spec["steps"]
bs = batches[0]["input_ids"].shape[0]
losses = []
trace = os.environ.get("TRACE")
prof = None
def sync():
    if cuda:
        torch.cuda.synchronize()
for s, hb in enumerate(batches):
    if s == warmup:
        sync()
        t0 = time.perf_counter()
        if trace:
            acts = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if cuda else [])
            prof = torch.profiler.profile(activities=acts, record_shapes=True)
            prof.__enter__()
    b = {k: v.to(dev, non_blocking=True) for k, v in hb.items()}
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=cuda):
        out_ = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], decoder_input_ids=b["decoder_input_ids"])
        logits = out_.logits
    loss = torch.nn.functional.cross_entropy(logits.float().view(-1, logits.shape[-1]), b["labels"].view(-1))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    losses.append(loss.detach())
sync()
secs = time.perf_counter() - t0
if prof is not None:
    prof.__exit__(None, None, None)
    prof.export_chrome_trace(trace)
res = {"torch": torch.__version__, "transformers": __import__("transformers").__version__, "device": str(dev), "bf16": cuda,
       "batch_size": bs, "steps": steps, "examples_per_second": steps * bs / secs, "step_ms": secs * 1000 / steps,
       "first_loss": losses[0].item(), "last_loss": losses[-1].item(),
       "parameters": sum(p.numel() for p in model.parameters())}
if cuda:
    res["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
json.dump(res, open(os.path.join(out, "train-hf.json"), "w"), indent=1)
print(json.dumps(res))
