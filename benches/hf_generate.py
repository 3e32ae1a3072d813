"""Hugging Face peer of `genrec-bench decode`: the same weights (saved by genrec),
the same inputs and the same 1,682-item trie, `generate(num_beams, num_return_sequences,
prefix_allowed_tokens_fn)`. Prints JSON like genrec's."""
import json, sys, time, os
import torch
from transformers import T5ForConditionalGeneration, GenerationConfig

out = sys.argv[1]
batch_sizes = [int(b) for b in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1, 64]
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
spec = json.load(open(os.path.join(out, "decode-inputs.json")))
model = T5ForConditionalGeneration.from_pretrained(os.path.join(out, "decode-model")).eval()
beam, top_k, eos, pad = spec["beam"], spec["top_k"], spec["eos"], spec["pad"]
children = {}
for item in spec["items"]:
    for k in range(len(item)):
        children.setdefault(tuple(item[:k]), set()).add(item[k])
    children.setdefault(tuple(item), set()).add(eos)
allowed = {k: sorted(v) for k, v in children.items()}

def prefix_fn(batch_id, sent):
    return allowed.get(tuple(sent.tolist()[1:]), [pad])

gc = GenerationConfig(num_beams=beam, num_return_sequences=top_k, max_new_tokens=len(spec["items"][0]) + 1,
                      decoder_start_token_id=0, eos_token_id=eos, pad_token_id=pad, do_sample=False,
                      length_penalty=0.0, early_stopping=True, use_cache=True)
inputs = spec["inputs"]

def run(batch):
    t = max(len(x) for x in batch)
    ids = torch.tensor([x + [pad] * (t - len(x)) for x in batch])
    mask = torch.tensor([[1] * len(x) + [0] * (t - len(x)) for x in batch])
    with torch.no_grad():
        model.generate(input_ids=ids, attention_mask=mask, generation_config=gc, prefix_allowed_tokens_fn=prefix_fn)

results = []
for bs in batch_sizes:
    run(inputs[:bs])  # warm-up
    lat = []
    t0 = time.perf_counter()
    for i in range(0, len(inputs), bs):
        t = time.perf_counter()
        run(inputs[i:i + bs])
        lat.append((time.perf_counter() - t) * 1000)
    secs = time.perf_counter() - t0
    lat.sort()
    r = {"batch_size": bs, "users": len(inputs), "users_per_second": len(inputs) / secs,
         "p50_batch_ms": lat[round((len(lat) - 1) * 0.5)], "p95_batch_ms": lat[round((len(lat) - 1) * 0.95)]}
    print(f"hf decode batch {bs}: {json.dumps(r)}", file=sys.stderr)
    results.append(r)
res = {"torch": torch.__version__, "transformers": __import__("transformers").__version__, "beam": beam, "top_k": top_k, "results": results}
json.dump(res, open(os.path.join(out, "decode-hf.json"), "w"), indent=1)
print(json.dumps(res))
