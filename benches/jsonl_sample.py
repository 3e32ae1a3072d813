"""Samples Amazon Beauty (../shared/data/amazon-beauty) into the JSONL shapes
exported catalogues have, to run genrec's default commands on data shaped
unlike the repository's two datasets (benches/RESULTS.md, "Catalogues shaped
as exports").

  python3 benches/jsonl_sample.py amazon2023 OUT   # 4,000 whole users as Amazon
      Reviews 2023 writes them: user_id, asin + parent_asin, ISO date-times;
      meta with main_category, average_rating, image objects; all 12,101 items
  python3 benches/jsonl_sample.py short OUT        # 6,000 other users, each cut
      to a window of 3 items or more (P(longer) = 0.6 per item, mean about 4):
      not 5-core, as raw exports are; user_id, item_id, dates
  python3 benches/jsonl_sample.py repeat OUT       # the short sample's users,
      each taking earlier items again: after each item, with p = 0.25, one
      of theirs so far (the one k places back with weight 0.5^k): about one
      interaction in five is a re-take, as in catalogues of things bought
      again
  python3 benches/jsonl_sample.py raw OUT         # the short sample's users
      and after them 7,363 other users cut to 1 item (45 %) or 2 (55 %), as
      a raw export's many short users: the held-out users are the short
      sample's, so runs compare paired with it
  python3 benches/jsonl_sample.py yelp OUT         # 5,000 other whole users as
      Yelp's open dataset writes them: review.jsonl (review_id, user_id,
      business_id, stars 1-5, "YYYY-MM-DD HH:MM:SS" dates, review text) and
      business.jsonl (name, city, categories, an attributes object, stars,
      review_count); only the businesses the reviews name

The times are made up (each user's items in their order); only the order is
Beauty's. Research data: OUT must stay out of the repository (runs/ is ignored).
"""
import datetime
import json
import os
import random
import sys

SRC = os.path.join(os.path.dirname(__file__), "../../shared/data/amazon-beauty")


def write_days(f, user, taken, year):
    """One user's interaction lines, a day apart from January 1st of `year`."""
    for k, it in enumerate(taken):
        day = datetime.date(year, 1, 1) + datetime.timedelta(days=k)
        f.write(json.dumps({"user_id": user, "item_id": it, "date": day.isoformat()}) + "\n")


def main(kind, out):
    os.makedirs(out, exist_ok=True)
    items = {}
    with open(os.path.join(SRC, "items.tsv")) as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            items[p[0]] = (p[1], p[2] if len(p) > 2 else "")
    with open(os.path.join(SRC, "sequential_data.txt")) as f:
        users = [line.split() for line in f]
    if kind == "amazon2023":
        rng = random.Random(7)
        rng.shuffle(users)
        t0 = datetime.datetime(2014, 1, 1)
        with open(os.path.join(out, "reviews.jsonl"), "w") as f:
            for u in users[:4000]:
                start = t0 + datetime.timedelta(days=rng.randint(0, 1000))
                for k, it in enumerate(u[1:]):
                    ts = start + datetime.timedelta(days=3 * k, seconds=rng.randint(0, 80000))
                    f.write(json.dumps({"rating": 5.0, "asin": items[it][0],
                                        "parent_asin": items[it][0], "user_id": "A" + u[0],
                                        "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ")}) + "\n")
        with open(os.path.join(out, "meta.jsonl"), "w") as f:
            for asin, title in items.values():
                f.write(json.dumps({"main_category": "All Beauty", "title": title,
                                    "average_rating": round(rng.uniform(3, 5), 1),
                                    "images": [{"large": "https://x/a.jpg", "variant": "MAIN"}],
                                    "parent_asin": asin}) + "\n")
    elif kind in ("short", "repeat", "raw"):
        rng = random.Random(11)
        rng.shuffle(users)
        again = random.Random(7)
        with open(os.path.join(out, "interactions.jsonl"), "w") as f:
            for u in users[4000:10000]:
                seq = u[1:]
                n = 3
                while n < len(seq) and rng.random() < 0.6:
                    n += 1
                s = rng.randint(0, len(seq) - n)
                taken = [items[it][0] for it in seq[s:s + n]]
                if kind == "repeat":
                    # After each item, with p = 0.25, one of the user's
                    # items so far again (the one k places back: 0.5^k).
                    with_again = []
                    for it in taken:
                        with_again.append(it)
                        if again.random() < 0.25:
                            w = [0.5 ** (len(with_again) - 1 - j) for j in range(len(with_again))]
                            with_again.append(again.choices(with_again, w)[0])
                    taken = with_again
                write_days(f, "U" + u[0], taken, 2020 if kind == "repeat" else 2015)
            if kind == "raw":
                # Users too short to hold out: 1 or 2 consecutive items each.
                few = random.Random(5)
                for u in users[15000:]:
                    seq = u[1:]
                    n = 2 if few.random() < 0.55 else 1
                    s = few.randint(0, len(seq) - n)
                    write_days(f, "U" + u[0], [items[it][0] for it in seq[s:s + n]], 2015)
        with open(os.path.join(out, "items.jsonl"), "w") as f:
            for asin, title in items.values():
                f.write(json.dumps({"item_id": asin, "title": title,
                                    "store": title.split(" ")[0] if title else ""}) + "\n")
    elif kind == "yelp":
        rng = random.Random(13)
        rng.shuffle(users)
        used = set()
        t0 = datetime.datetime(2016, 1, 1)
        with open(os.path.join(out, "review.jsonl"), "w") as f:
            for n, u in enumerate(users[10000:15000]):
                start = t0 + datetime.timedelta(days=rng.randint(0, 1500))
                for k, it in enumerate(u[1:]):
                    used.add(it)
                    ts = start + datetime.timedelta(days=5 * k, seconds=rng.randint(0, 80000))
                    f.write(json.dumps({"review_id": f"r{n}-{k}", "user_id": "Y" + u[0],
                                        "business_id": items[it][0], "stars": rng.randint(1, 5),
                                        "useful": 0, "text": "Went there again, fine.",
                                        "date": ts.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
        with open(os.path.join(out, "business.jsonl"), "w") as f:
            for it in sorted(used):
                asin, title = items[it]
                store = title.split(" ")[0] if title else ""
                f.write(json.dumps({"business_id": asin, "name": title, "city": "Las Vegas",
                                    "stars": round(rng.uniform(2, 5) * 2) / 2,
                                    "review_count": rng.randint(5, 500),
                                    "attributes": {"BusinessAcceptsCreditCards": "True",
                                                   "RestaurantsPriceRange2": str(rng.randint(1, 4))},
                                    "categories": f"Beauty & Spas, {store}"}) + "\n")
    else:
        sys.exit(f"unknown kind {kind!r}: amazon2023, short, repeat, raw or yelp")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
