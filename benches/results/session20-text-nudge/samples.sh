set -e
G=/work/main/target/release/genrec
for d in sub2 sub; do
  cd /work/main/runs/$d
  s=$(date +%s)
  $G train -d ds --task verify --set run.checkpoints=ck --set run.name=\"ds-verifier6\" --set verify.generator=\"ck/ds\" 2>&1 | grep -v "^sasrec\|^SASRec epoch" > ../t20/$d-ver.log
  echo "$d verify $(( $(date +%s) - s )) s"
  grep "blend of" ../t20/$d-ver.log || true
  for sp in valid test; do
    for v in ds-verifier4 ds-verifier6; do $G recommend --checkpoint ck/ds --rerank ck/$v --split $sp --output ../t20/$d-rec-$v-$sp.jsonl 2>/dev/null; done
    /work/main/.venv/bin/python ../txt/paired.py ds $sp ../t20/$d-rec-ds-verifier4-$sp.jsonl ../t20/$d-rec-ds-verifier6-$sp.jsonl
  done
done
echo done
