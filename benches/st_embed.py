"""sentence-transformers peer of `genrec-bench embed`: all-MiniLM-L6-v2 from the
same files (checkpoints/ + tokenizer/), max length 256, batch 64, the same texts.
Usage: st_embed.py OUT DATASET [BATCH [TEXTS_JSON]] (TEXTS_JSON: the long texts
`genrec-bench embed --long N` wrote; results then go to embed-st-long.json)."""
import json, sys, time, os, shutil, tempfile
import torch
from sentence_transformers import SentenceTransformer, models

out, dataset = sys.argv[1], sys.argv[2]
bs = int(sys.argv[3]) if len(sys.argv) > 3 else 64
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
tmp = tempfile.mkdtemp()
for f in ("model.safetensors", "config.json"):
    shutil.copy(os.path.join("checkpoints/encoders/all-MiniLM-L6-v2", f), tmp)
shutil.copy("tokenizer/all-MiniLM-L6-v2/tokenizer.json", tmp)
json.dump({"do_lower_case": True, "model_max_length": 512, "tokenizer_class": "BertTokenizerFast",
           "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]"},
          open(os.path.join(tmp, "tokenizer_config.json"), "w"))
word = models.Transformer(tmp, max_seq_length=256)
model = SentenceTransformer(modules=[word, models.Pooling(word.get_word_embedding_dimension(), "mean"), models.Normalize()], device="cpu")
long = sys.argv[4] if len(sys.argv) > 4 else None
if long:
    texts = json.load(open(long))["texts"]
else:
    texts = [json.loads(l)["text"] for l in open(os.path.join(dataset, "items.jsonl"))]
model.encode(texts[:bs], batch_size=bs)
t0 = time.perf_counter()
emb = model.encode(texts, batch_size=bs, convert_to_numpy=True)
secs = time.perf_counter() - t0
res = {"items": len(texts), "batch_size": bs, "seconds": secs, "items_per_second": len(texts) / secs,
       "sentence_transformers": __import__("sentence_transformers").__version__, "torch": torch.__version__}
json.dump(res, open(os.path.join(out, "embed-st-long.json" if long else "embed-st.json"), "w"), indent=1)
print(json.dumps(res))
