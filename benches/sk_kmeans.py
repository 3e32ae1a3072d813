"""scikit-learn peer of `genrec-bench kmeans`: residual k-means (L levels of K) on
the same embeddings with sklearn.cluster.KMeans (k-means++, n_init=1, same iterations).
Usage: sk_kmeans.py OUT DATASET_DIR_OR_EMBEDDINGS_FILE [LEVELS K ITERS [NAME]]"""
import json, sys, time, os
import numpy as np
from safetensors.numpy import load_file
from sklearn.cluster import KMeans

out, dataset = sys.argv[1], sys.argv[2]
levels, k, iters = (int(x) for x in (sys.argv[3:6] if len(sys.argv) > 5 else (3, 256, 20)))
name = sys.argv[6] if len(sys.argv) > 6 else "kmeans-sklearn.json"
path = dataset if dataset.endswith(".safetensors") else os.path.join(dataset, "embeddings.safetensors")
x = load_file(path)["embeddings"].astype(np.float32)
t0 = time.perf_counter()
r = x.copy()
codes = []
for level in range(levels):
    km = KMeans(n_clusters=k, n_init=1, max_iter=iters, random_state=42 + level).fit(r)
    codes.append(km.labels_)
    r = r - km.cluster_centers_[km.labels_]
secs = time.perf_counter() - t0
tuples = {}
for t in zip(*codes):
    tuples[t] = tuples.get(t, 0) + 1
groups = [g for g in tuples.values() if g > 1]
res = {"n": x.shape[0], "d": x.shape[1], "max_iter": iters, "seconds": secs, "reconstruction_error": float((r ** 2).sum(1).mean()), "collision_groups": len(groups),
       "largest_collision_group": max(tuples.values()), "usage": [len(set(c)) / k for c in codes],
       "sklearn": __import__("sklearn").__version__}
json.dump(res, open(os.path.join(out, name), "w"), indent=1)
print(json.dumps(res))
