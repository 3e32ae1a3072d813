import json, sys, numpy as np
from safetensors.numpy import load_file
ds=sys.argv[1]
rows=[json.loads(l) for l in open(f"pools-{ds}-valid.jsonl")]
E=load_file(f"{ds}/embeddings.safetensors")["embeddings"]; E/=np.linalg.norm(E,axis=1,keepdims=True)
res={}
for name,W,dec in [("last1",1,1.0),("last2",2,1.0),("prof10",10,1.0),("decay.7",10,0.7)]:
    new=hit=0
    for r in rows:
        h=r["history"][-W:]; w=np.array([dec**a for a in range(len(h))][::-1])
        q=(E[h]*w[:,None]).sum(0); s=E@q; s[r["history"]]=-9
        top=np.argpartition(-s,20)[:20]
        t=r["target"]; inpool=t in r["items"]
        hit+= t in top; new+= (t in top) and not inpool
    print(ds,name,"recall@20",round(hit/len(rows),4),"new to pool",round(new/len(rows),4), "pool recall", round(np.mean([r['target'] in r['items'] for r in rows]),4))
