G=/work/main/target/release/genrec
cd /work/main
s=$(date +%s)
$G train -c runs/fr/ck/ver19/train.toml --set run.name=\"ver20\" 2>&1 | grep -v "^sasrec\|^SASRec epoch\|^decoding\|^training" > runs/t20/beauty-ver.log
echo "beauty verify $(( $(date +%s) - s )) s"; grep "blend of" runs/t20/beauty-ver.log
for sp in valid test; do
  for v in ver19 ver20; do $G recommend --checkpoint runs/lp/ck/lp50t --rerank runs/fr/ck/$v --split $sp --output runs/t20/beauty-rec-$v-$sp.jsonl 2>/dev/null; done
  .venv/bin/python runs/txt/paired.py data/prepared/amazon-beauty $sp runs/t20/beauty-rec-ver19-$sp.jsonl runs/t20/beauty-rec-ver20-$sp.jsonl
done
s=$(date +%s)
$G train -d data/prepared/ml-100k --task verify --set run.name=\"ml-100k-verifier6\" 2>&1 | grep -v "^sasrec\|^SASRec epoch\|^decoding\|^training" > runs/t20/ml-ver.log
echo "ml verify $(( $(date +%s) - s )) s"; grep "blend of" runs/t20/ml-ver.log
echo done
