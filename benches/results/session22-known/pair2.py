"""Paired NDCG@10 and Recall@10 of two recommend outputs on one split: pair2.py SAMPLE SPLIT NEW OLD
(the dataset runs/SAMPLE/ds, the outputs under runs/SAMPLE): benches/pair.py on that layout."""
import os, subprocess, sys
k, sp, new, old = sys.argv[1:5]
base = f"/work/main/runs/{k}"
pair = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../pair.py")
sys.exit(subprocess.call([sys.executable, pair, f"{base}/ds", sp, f"{base}/{new}", f"{base}/{old}"]))
