set -e
G=/work/main/target/release/genrec
cd /work/main/runs/sub3
rm -rf ds ck
s=$(date +%s)
$G prepare review.jsonl --items business.jsonl --out ds
$G embed -d ds
$G index -d ds
echo "setup $(( $(date +%s) - s )) s"
$G train -d ds --set run.checkpoints=ck
echo "train $(( $(date +%s) - s )) s"
$G evaluate --checkpoint ck/ds --split valid
$G evaluate --checkpoint ck/ds --split test
echo "all $(( $(date +%s) - s )) s"
