"""The synthetic 300,000-item catalogue of session 27's memory check: 20,000 users of 6
random items each, items titled "product k". Run in an empty directory, then:
  genrec prepare interactions.jsonl --items items.jsonl --out ds
  /usr/bin/time -v genrec baseline -d ds --max-epochs 1      # SASRec, one epoch
  genrec embed -d ds; genrec index -d ds
  /usr/bin/time -v genrec train -d ds --max-steps 300 --set run.checkpoints=ck --set verify.sequence_max_epochs=2
"""
import json, random
random.seed(1)
N, U = 300_000, 20_000
with open("items.jsonl", "w") as f:
    for i in range(N):
        f.write(json.dumps({"item_id": f"I{i}", "title": f"product {i}"}) + "\n")
with open("interactions.jsonl", "w") as f:
    for u in range(U):
        for t in range(6):
            f.write(json.dumps({"user": f"U{u}", "item": f"I{random.randrange(N)}", "timestamp": t}) + "\n")
