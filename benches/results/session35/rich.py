"""A rich-text version of the amazon2023 sample: the same users and titles, and for each
item the long fields a real Amazon Reviews 2023 record carries (store, categories,
features, description, details), written from the title by rules: a product type found
in the title's words gives the category path, the item form and type-specific bullet
points; the rest is marketing boilerplate drawn at random, as in real listings.

  python3 rich.py runs/amazon2023-src runs/rich-src
"""
import json, os, random, re, shutil, sys

TYPES = [
    ("nail", ["Nail Polish", "Lacquer", "Liquid"], ["Long-lasting chip-resistant color with a glossy finish", "Quick-drying formula applies smoothly in two coats", "Salon-quality nail color for fingers and toes", "Use with a base coat and top coat for best results"]),
    ("lash", ["Eyes", "False Eyelashes", "Strip"], ["Reusable lashes that add length and volume", "Lightweight band for all-day comfort", "Easy to apply with lash glue", "Natural look for everyday wear"]),
    ("mascara", ["Eyes", "Mascara", "Liquid"], ["Lengthens and defines every lash", "Clump-free brush separates lashes", "Smudge-proof formula lasts all day", "Removes easily with warm water"]),
    ("eyeliner", ["Eyes", "Eyeliner", "Pencil"], ["Precise tip for sharp lines", "Waterproof and smudge resistant", "Glides on without tugging", "Intense pigment in one stroke"]),
    ("eyeshadow", ["Eyes", "Eyeshadow", "Powder"], ["Highly pigmented shades blend easily", "Matte and shimmer finishes in one palette", "Crease-resistant wear", "Build from sheer to intense color"]),
    ("palette", ["Face", "Makeup Palettes", "Powder"], ["A complete set of shades in one compact", "Mirror included for touch-ups on the go", "Blendable colors for day and night looks", "Travel-friendly case"]),
    ("lip", ["Lips", "Lipstick", "Cream"], ["Rich color with a comfortable feel", "Moisturizing formula keeps lips soft", "Long-wearing shade that does not feather", "Creamy texture glides on evenly"]),
    ("foundation", ["Face", "Foundation", "Liquid"], ["Buildable coverage evens out skin tone", "Lightweight formula feels like skin", "Oil-free and non-comedogenic", "Natural finish that lasts all day"]),
    ("concealer", ["Face", "Concealer", "Cream"], ["Covers dark circles and blemishes", "Creaseless wear under the eyes", "Blends seamlessly with foundation", "Full coverage in a small amount"]),
    ("powder", ["Face", "Powder", "Powder"], ["Sets makeup and controls shine", "Finely milled for a smooth finish", "Translucent on every skin tone", "Blurs pores and fine lines"]),
    ("bb cream", ["Face", "BB & CC Creams", "Cream"], ["Moisturizer, primer and coverage in one", "Sun protection in a tinted cream", "Evens skin tone with sheer coverage", "Korean beauty formula"]),
    ("brush", ["Tools & Accessories", "Makeup Brushes", "Brush"], ["Soft synthetic bristles that do not shed", "Ergonomic handle for precise application", "Works with powder, cream and liquid", "Easy to clean with mild soap"]),
    ("shampoo", ["Hair Care", "Shampoo", "Liquid"], ["Gently cleanses without stripping natural oils", "Sulfate-free formula safe for color-treated hair", "Leaves hair soft and manageable", "Rich lather rinses clean"]),
    ("conditioner", ["Hair Care", "Conditioner", "Cream"], ["Detangles and smooths the hair cuticle", "Deep conditioning for dry, damaged hair", "Adds shine without weighing hair down", "Leave on for two minutes and rinse"]),
    ("hair", ["Hair Care", "Styling Products", "Gel"], ["Flexible hold without stiffness", "Tames frizz and flyaways", "Heat protection for styling tools", "Adds volume and texture"]),
    ("oil", ["Skin Care", "Body Oils", "Oil"], ["Pure oil absorbs quickly without greasy residue", "Nourishes skin, hair and nails", "Cold-pressed and unrefined", "Use alone or mix with your favorite lotion"]),
    ("serum", ["Skin Care", "Face Serums", "Serum"], ["Concentrated actives target fine lines", "Brightens dull skin for a radiant glow", "Absorbs quickly under moisturizer", "Suitable for all skin types"]),
    ("cream", ["Skin Care", "Face Moisturizers", "Cream"], ["Rich cream hydrates for 24 hours", "Restores the skin barrier overnight", "Fragrance-free and dermatologist tested", "Absorbs without a greasy feel"]),
    ("lotion", ["Skin Care", "Body Lotions", "Lotion"], ["Daily moisture for soft, smooth skin", "Non-greasy formula absorbs fast", "Soothes dry and rough patches", "Light scent that lingers"]),
    ("mask", ["Skin Care", "Face Masks", "Sheet"], ["Draws out impurities and unclogs pores", "Leaves skin refreshed in ten minutes", "Soothing botanical extracts", "Use two to three times a week"]),
    ("cleanser", ["Skin Care", "Cleansers", "Gel"], ["Removes makeup and dirt in one step", "Gentle enough for twice-daily use", "Balances oily and combination skin", "Rinses clean with no residue"]),
    ("soap", ["Bath & Body", "Soaps", "Bar"], ["Handmade bar with natural oils", "Creamy lather cleanses gently", "Scented with essential oils", "Long-lasting bar"]),
    ("perfume", ["Fragrance", "Eau de Parfum", "Spray"], ["A signature scent with floral and woody notes", "Long-lasting fragrance for day and night", "Elegant bottle makes a perfect gift", "Spray on pulse points"]),
    ("fragrance", ["Fragrance", "Eau de Toilette", "Spray"], ["Fresh top notes and a warm base", "Light enough for everyday wear", "Travel size fits in any bag", "Layer with the matching lotion"]),
    ("razor", ["Shave & Hair Removal", "Razors", "Razor"], ["Sharp blades for a close, comfortable shave", "Pivoting head follows every contour", "Lubricating strip reduces irritation", "Replaceable cartridges"]),
    ("wax", ["Shave & Hair Removal", "Waxing", "Wax"], ["Removes hair from the root for smooth skin", "Low-temperature wax for sensitive areas", "Strip-free formula", "Results last up to four weeks"]),
    ("sunscreen", ["Skin Care", "Sunscreens", "Lotion"], ["Broad spectrum SPF protection", "Water resistant for 80 minutes", "Reef-friendly formula", "Lightweight with no white cast"]),
    ("file", ["Tools & Accessories", "Nail Tools", "File"], ["Shapes and smooths nails", "Double-sided grit", "Washable and reusable", "Compact for travel"]),
]
GENERIC = [
    "Our products are developed with care and tested for quality.",
    "Satisfaction guaranteed: if you are not happy with your purchase, contact us for a refund.",
    "Not tested on animals.",
    "Free from parabens, phthalates and synthetic dyes.",
    "Packaging may vary from the image shown.",
    "Perfect as a gift for birthdays, holidays and special occasions.",
    "Suitable for men and women of all ages.",
    "Store in a cool, dry place away from direct sunlight.",
    "For external use only. Avoid contact with eyes. Discontinue use if irritation occurs.",
    "Made with premium ingredients sourced from around the world.",
    "Professional results at home.",
    "Trusted by beauty professionals for years.",
    "Our customer service team is available to answer any questions.",
    "Each product is inspected before it leaves our facility.",
    "Enjoy a luxurious experience every day.",
    "Designed to fit easily into your daily routine.",
    "Dermatologist tested for safety.",
    "Keep out of reach of children.",
    "Please read the full list of ingredients before use.",
    "Colors may appear slightly different on different screens.",
    "Ships in secure packaging to arrive in perfect condition.",
    "Join millions of happy customers worldwide.",
    "The perfect addition to any beauty collection.",
    "Cruelty free and vegan friendly.",
    "Manufactured in a certified facility following good manufacturing practices.",
    "Results may vary from person to person.",
    "Lightweight and easy to carry in a purse or travel bag.",
    "Apply as needed throughout the day.",
    "A must-have essential for your beauty routine.",
    "Great value for the price.",
]


def kind_of(title):
    t = title.lower()
    for key, cat, bullets in TYPES:
        if re.search(r"\b" + re.escape(key), t):
            return key, cat, bullets
    return None, ["Beauty", "Other", "Other"], []


def main(src, out):
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(src, "reviews.jsonl"), os.path.join(out, "reviews.jsonl"))
    rng = random.Random(35)
    n_long = 0
    with open(os.path.join(src, "meta.jsonl")) as f, open(os.path.join(out, "meta.jsonl"), "w") as g:
        for line in f:
            m = json.loads(line)
            title = m["title"] or ""
            words = title.split()
            brand = words[0].strip(",.") if words else "Generic"
            key, (top, sub, form), bullets = kind_of(title)
            size = re.search(r"(\d+(\.\d+)?\s*-?\s*(fl\.?\s*)?(oz|ounce|ml|g|count|pack))", title, re.I)
            features = rng.sample(bullets, min(len(bullets), rng.randint(2, 4))) + rng.sample(GENERIC, rng.randint(1, 3))
            description = [
                " ".join(rng.sample(GENERIC, rng.randint(5, 9))),
                "How to use: " + " ".join(rng.sample(GENERIC, rng.randint(3, 6))),
                f"About {brand}: {brand} creates beauty products that make you look and feel your best. "
                + " ".join(rng.sample(GENERIC, rng.randint(3, 6))),
            ]
            if bullets:
                description.insert(rng.randint(0, 1), " ".join(rng.sample(bullets, 2)) + ".")
            details = {"Brand": brand, "Item Form": form}
            if size:
                details["Size"] = size.group(1)
            details["Manufacturer"] = brand
            details["Date First Available"] = f"{rng.choice(['January', 'March', 'June', 'October'])} {rng.randint(1, 28)}, {rng.randint(2008, 2014)}"
            rec = {
                "main_category": m["main_category"],
                "title": title,
                "average_rating": m["average_rating"],
                "rating_number": rng.randint(3, 4000),
                "features": features,
                "description": description,
                "price": round(rng.uniform(3, 60), 2),
                "images": m["images"],
                "store": brand,
                "categories": ["Beauty & Personal Care", top, sub],
                "details": details,
                "parent_asin": m["parent_asin"],
            }
            n_long += len(" ".join(features + description).split()) > 150
            g.write(json.dumps(rec) + "\n")
    print(f"wrote {out}; {n_long} items with over 150 words of features and description")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
