import json,sys,math, numpy as np
from collections import Counter
from safetensors.numpy import load_file
ds,split,lists=sys.argv[1],sys.argv[2],sys.argv[3]
jl=lambda p:[json.loads(l) for l in open(p)]
held=jl(f"{ds}/{split}.jsonl")
if split=="valid":
    known=[r["items"] for r in jl(f"{ds}/train.jsonl")]
else:
    known=[h["history"] for h in held]
known+= [r["items"] for r in jl(f"{ds}/context.jsonl")]
c=Counter(i for s in known for i in s)
E=load_file(f"{ds}/embeddings.safetensors")["embeddings"]; E/=np.linalg.norm(E,axis=1,keepdims=True)
N=len(E); cnt=np.array([c[i] for i in range(N)])
ids={r["original_id"]:r["id"] for r in jl(f"{ds}/items.jsonl")}
L=[[ids[i] for i in r["items"]] for r in jl(lists)]
cold_idx=np.where(cnt==0)[0]; Ec=E[cold_idx]
colds=[]
for h in held:
    s=Ec@E[h["history"][-1]]
    hs=set(h["history"])
    o=np.argsort(-s)[:30]
    colds.append([int(cold_idx[j]) for j in o if cold_idx[j] not in hs][:10])
def nd(l,t): return 1/math.log2(l.index(t)+2) if t in l[:10] else 0
tg=[h["target"] for h in held]
base=np.array([nd(l,t) for l,t in zip(L,tg)])
print("base",base.mean().round(4))
rng=np.random.default_rng(0)
for k in [1,5,20,60]:
  for w in [0.1,0.2,0.3,0.5,0.7,1.0]:
    out=[]
    for l,cl,t in zip(L,colds,tg):
        sc={}
        for r,i in enumerate(l): sc[i]=sc.get(i,0)+1/(k+r+1)
        for r,i in enumerate(cl): sc[i]=sc.get(i,0)+w/(k+r+1)
        f=sorted(sc,key=lambda i:-sc[i])[:10]
        out.append(nd(f,t))
    d=np.array(out)-base
    bs=[d[rng.integers(0,len(d),len(d))].mean() for _ in range(300)]
    print(k,w,np.mean(out).round(4),"diff",d.mean().round(4),np.percentile(bs,[2.5,97.5]).round(4))
