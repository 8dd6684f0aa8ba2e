"""Built-in knowledge: common UK merchants (by normalised alias) and telling keywords.

Aliases are normalised merchant strings (see :func:`~service.insights.normalise.normalise_merchant`)
matched on whole leading words, longest first, so ``"tesco mobile"`` wins over ``"tesco"``.
Keywords are single normalised words (or two-word phrases) anywhere in the merchant string.
"""

from __future__ import annotations

from typing import Final

# fmt: off

#: category -> merchant aliases (normalised). The first alias of a line is its display name.
MERCHANTS: Final[dict[str, tuple[str, ...]]] = {
    "groceries": (
        "tesco", "tesco stores", "tesco express", "tesco extra", "tesco pfs", "tesco metro",
        "sainsburys", "sainsburys s mkts", "js online grocery", "asda", "asda stores",
        "asda superstore", "aldi", "aldi stores", "lidl", "lidl gb", "morrisons",
        "wm morrisons store", "co op", "coop food", "co op group", "waitrose",
        "waitrose partners", "ocado", "ocado retail", "ms simply food", "ms food",
        "marks spencer simply food", "iceland", "iceland foods", "farmfoods", "spar", "londis",
        "budgens", "nisa", "one stop", "costcutter", "premier stores", "whole foods market",
        "amazon fresh", "getir", "gopuff", "riverford", "abel cole", "hellofresh", "gousto",
        "mindful chef", "milk and more",
    ),
    "eating_out": (
        "pret a manger", "pret", "costa", "costa coffee", "starbucks", "caffe nero", "greggs",
        "greggs plc", "mcdonalds", "mcdonalds restaurant", "burger king", "kfc", "subway",
        "nandos", "nandos chickenland", "deliveroo", "just eat", "justeat", "uber eats",
        "wagamama", "pizza express", "pizza hut", "dominos", "dominos pizza", "papa johns",
        "five guys", "leon", "itsu", "wasabi", "tortilla", "zizzi", "ask italian", "prezzo",
        "frankie bennys", "harvester", "toby carvery", "beefeater", "wetherspoon",
        "wetherspoons", "j d wetherspoon", "all bar one", "browns", "miller carter",
        "the ivy", "dishoom", "honest burgers", "gbk", "byron", "yo sushi", "tgi fridays",
        "chiquito", "bella italia", "cote", "wahaca", "pho", "tim hortons", "krispy kreme",
        "black sheep coffee", "gail s", "gails", "paul uk",
    ),
    "transport": (
        "shell", "bp", "esso", "texaco", "jet", "gulf", "murco", "applegreen", "tfl",
        "tfl travel ch", "tfl cp", "trainline", "lner", "avanti west coast", "gwr",
        "great western railway", "northern rail", "southern railway", "southeastern",
        "thameslink", "cross country", "crosscountry", "scotrail", "transpennine", "c2c",
        "chiltern railways", "merseyrail", "national express", "megabus", "stagecoach",
        "first bus", "arriva", "uber", "bolt", "addison lee", "freenow", "ringgo", "paybyphone",
        "justpark", "ncp", "dart charge", "dvla", "kwik fit", "halfords", "halfords autocentre",
        "the aa", "rac motoring", "rac", "green flag", "black horse", "volkswagen financial",
        "zipcar", "enterprise rent a car", "euro car parks", "santander cycles", "lime",
    ),
    "shopping": (
        "amazon", "amznmktplace", "amazon marketplace", "amazon prime", "amzn mktp", "argos",
        "john lewis", "john lewis plc", "primark", "next", "next retail", "next directory",
        "ebay", "ebay o", "ikea", "bq", "homebase", "wickes", "screwfix", "toolstation",
        "currys", "currys pc world", "ao com", "apple store", "h m", "hm", "zara", "uniqlo",
        "tk maxx", "tkmaxx", "matalan", "sports direct", "jd sports", "asos", "boohoo",
        "very", "littlewoods", "debenhams", "marks spencer", "ms", "marks and spencer",
        "dunelm", "the range", "b m", "bm", "home bargains", "poundland", "wilko",
        "the entertainer", "smyths", "smyths toys", "hobbycraft", "waterstones", "etsy",
        "vinted", "shein", "temu", "river island", "new look", "clarks", "schuh", "fatface",
        "white stuff", "joules", "superdry", "mountain warehouse", "decathlon", "pets at home",
        "robert dyas", "lakeland", "oliver bonas", "the works", "card factory", "pandora",
        "h samuel", "ernest jones",
    ),
    "entertainment": (
        "netflix", "spotify", "disney plus", "disney", "now tv", "nowtv", "youtube premium",
        "youtube", "apple bill", "itunes", "amazon prime video", "prime video", "audible",
        "kindle", "xbox", "playstation", "sony playstation", "nintendo", "steam",
        "steamgames", "steam purchase", "odeon", "odeon cinemas", "vue", "vue bsl", "vue cinemas",
        "cineworld", "everyman", "picturehouse", "showcase", "ticketmaster", "ticketmaster uk",
        "see tickets", "eventbrite", "dice", "skiddle", "national trust", "english heritage",
        "merlin", "legoland", "alton towers", "thorpe park", "chessington", "the economist",
        "the times", "the guardian", "apple music", "deezer", "tidal", "britbox", "paramount",
        "dazn", "twitch", "roblox", "epic games", "pokemon", "hollywood bowl",
        "tenpin", "gym group",
    ),
    "health": (
        "boots", "boots the chemist", "superdrug", "lloyds pharmacy", "lloydspharmacy",
        "well pharmacy", "specsavers", "vision express", "boots opticians", "bupa",
        "denplan", "puregym", "pure gym", "the gym group", "david lloyd", "nuffield health",
        "virgin active", "anytime fitness", "everyone active", "better", "fitness first",
        "holland barrett", "myprotein", "simplyhealth", "livi", "push doctor", "peloton",
    ),
    "personal_care": (
        "toni guy", "lush", "lush retail", "rush hair", "headmasters", "supercuts",
        "the body shop", "treatwell", "fresha", "benefit cosmetics", "space nk", "sephora",
        "charlotte tilbury",
    ),
    "travel": (
        "easyjet", "easyjet airline", "ryanair", "british airways", "british a", "jet2",
        "jet2 holidays", "tui", "virgin atlantic", "wizz air", "loganair", "eurostar",
        "premier inn", "travelodge", "holiday inn", "hilton", "marriott", "ibis", "airbnb",
        "booking", "hotel at booking", "expedia", "hotels", "lastminute", "trivago",
        "center parcs", "haven", "hoseasons", "eurotunnel", "brittany ferries", "p o ferries",
        "dfds", "heathrow", "gatwick", "stansted", "world duty free",
    ),
    "charity_gifts": (
        "justgiving", "gofundme", "oxfam", "british red cross", "cancer research uk",
        "cancer research", "rspca", "nspcc", "macmillan", "save the children", "unicef",
        "british heart foundation", "barnardos", "shelter", "mind", "age uk", "dogs trust",
        "wwf", "greenpeace", "amnesty", "marie curie", "moonpig", "funky pigeon", "interflora",
        "bloom wild", "serenata flowers", "virgin money giving", "cafod", "christian aid",
    ),
    "childcare_education": (
        "parentpay", "parentpay ltd", "scopay", "wisepay", "sims pay", "schoolcomms",
        "bright horizons", "busy bees", "busy bees nurseries", "kiddi caru", "kumon",
        "explore learning", "puddle ducks", "water babies", "turtle tots", "whsmith", "tutorful",
        "duolingo", "open university",
        "student loans company", "tax free childcare", "childcare service",
    ),
    "bills": (
        "british gas", "octopus energy", "edf energy", "edf", "ovo energy", "ovo", "e on next",
        "e on", "eon", "scottish power", "sse", "so energy", "utility warehouse",
        "shell energy", "bulb", "thames water", "severn trent water", "severn trent",
        "anglian water", "united utilities", "yorkshire water", "southern water", "wessex water",
        "south west water", "welsh water", "dwr cymru", "northumbrian water", "affinity water",
        "south east water", "bt", "bt group", "virgin media", "sky digital", "sky", "talktalk",
        "plusnet", "vodafone", "ee", "ee limited", "o2", "three", "three uk", "giffgaff",
        "tesco mobile", "id mobile", "lebara", "lyca mobile", "voxi", "smarty", "hyperoptic",
        "community fibre", "tv licence", "tv licensing",
    ),
    "insurance": (
        "admiral", "admiral insurance", "direct line", "direct line ins", "aviva",
        "aviva insurance", "aviva home ins", "lv", "lv insurance", "churchill",
        "churchill insurance", "legal general", "vitalitylife", "vitality", "petplan",
        "more than", "hastings direct", "esure", "axa", "zurich", "royal london",
        "scottish widows", "aig life", "animal friends", "bought by many", "manypets",
        "sheilas wheels", "saga", "ageas", "nfu mutual", "policy expert", "swinton",
        "tesco bank insurance", "halifax home insurance",
    ),
    "housing": (
        "nationwide bs mortgage", "halifax mortgage", "santander mortgage", "barclays mortgage",
        "natwest mortgage", "hsbc mortgage", "coventry building society", "yorkshire bs",
        "foxtons", "foxtons lettings", "countrywide res lettings", "openrent", "goodlord",
        "savills", "hamptons", "grainger", "places for people", "clarion housing",
    ),
    "savings_investments": (
        "vanguard", "vanguard asset mgmt", "nutmeg", "nutmeg saving", "moneybox", "plum",
        "chip", "wealthify", "hargreaves lansdown", "aj bell", "interactive investor",
        "fidelity", "freetrade", "trading", "ns i", "nsi", "premium bonds", "scottish friendly",
        "octopus investments", "wealthsimple", "raisin",
    ),
    "fees_charges": ("monthly account fee", "overdraft fee", "unarranged od charge",
                     "non sterling transaction fee"),
    "cash": ("cash link", "notemachine", "link", "atm withdrawal", "cash withdrawal"),
    "income": ("hmrc child benefit", "dwp", "dwp state pension", "hmrc tax refund",
               "credit interest", "universal credit"),
    "transfers": ("barclaycard", "american express", "amex", "mbna", "capital one", "vanquis",
                  "aqua card", "payment received thank you", "transfer from savings",
                  "transfer to current account", "easy access saver", "joint current account"),
}

#: Telling single words (and a few two-word phrases) of the normalised merchant string.
KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    "groceries": (
        "supermarket", "supermarkets", "grocer", "grocers", "greengrocer", "greengrocers",
        "grocery", "butcher", "butchers", "bakery", "bakers", "deli", "delicatessen",
        "fishmonger", "fishmongers", "farm shop", "food store", "food hall", "mini market",
        "minimarket", "convenience", "off licence", "veg box", "dairy", "food",
    ),
    "eating_out": (
        "cafe", "caffe", "coffee", "espresso", "kitchen", "bistro", "brasserie", "restaurant",
        "pizzeria", "pizza", "fish bar", "chippy", "tandoori", "curry", "noodle", "sushi",
        "arms", "inn", "tavern", "pub", "grill", "takeaway", "tea rooms", "tearooms", "diner",
        "burger", "kebab", "bar", "canteen", "eatery", "trattoria", "steakhouse", "bakehouse",
    ),
    "transport": (
        "service station", "petrol", "fuel", "garage", "taxi", "taxis", "cars", "motors",
        "tyres", "parking", "car park", "rail", "railway", "trains", "buses", "coach",
        "breakdown", "mot", "car wash", "motor finance", "car finance", "ev charging",
    ),
    "shopping": (
        "boutique", "gifts", "hardware", "interiors", "books", "bookshop", "toys", "shoes",
        "electricals", "electronics", "garden centre", "home store", "furniture", "clothing",
        "fashion", "outlet", "jewellers", "department store", "homeware", "stationers",
    ),
    "entertainment": (
        "cinema", "cinemas", "bowling", "theatre", "escape rooms", "trampoline", "soft play",
        "games", "gaming", "tickets", "concert", "stream", "streaming", "music", "tv",
        "magazine", "magazines", "museum", "zoo", "golf", "arcade",
    ),
    "health": (
        "pharmacy", "chemist", "dental", "dentist", "opticians", "optician", "physio",
        "physiotherapy", "clinic", "osteopath", "chiropractor", "doctor", "medical", "gp",
        "surgery", "hospital", "fitness", "gym", "leisure centre", "health", "vets", "vet",
        "veterinary",
    ),
    "personal_care": (
        "barber", "barbers", "hair", "hairdressers", "salon", "beauty", "nails", "spa",
        "cosmetics", "tanning", "massage", "aesthetics",
    ),
    "childcare_education": (
        "nursery", "nurseries", "pre school", "preschool", "childminder", "tutoring", "tutor",
        "tuition", "swim school", "dance school", "school", "academy", "college", "university",
        "after school", "holiday club", "scouts", "brownies", "creche",
    ),
    "charity_gifts": (
        "hospice", "charity", "charitable", "foundation", "donation", "donate", "appeal",
        "florist", "flowers",
    ),
    "travel": (
        "hotel", "hotels", "guest house", "holiday park", "lodge", "cottages", "airways",
        "airlines", "airline", "airport", "hostel", "resort", "b b", "bnb", "holidays",
        "ferries", "cruise", "villas",
    ),
    "insurance": ("insurance", "insure", "assurance", "mutual", "life cover", "pet insure"),
    "bills": (
        "energy", "water", "water services", "gas", "electric", "electricity", "power",
        "telecom", "broadband", "fibre", "mobile", "council", "council tax", "borough",
        "district council", "utilities", "tv licence",
    ),
    "housing": (
        "mortgage", "home loans", "rent", "lettings", "letting", "estates", "property",
        "property management", "housing", "landlord", "ground rent", "service charge",
    ),
    "savings_investments": (
        "invest", "investment", "investments", "wealth", "isa", "savings", "saver",
        "pension contribution", "stocks",
    ),
    "fees_charges": ("fee", "fees", "charge", "charges", "overdraft", "commission"),
    "cash": ("cash", "atm", "withdrawal"),
    "income": (
        "salary", "wages", "payroll", "pension", "benefit", "hmrc", "dwp", "dividend",
        "interest", "refund", "universal credit", "tax credit",
    ),
    "transfers": (
        "transfer", "credit card", "pocket money", "payback", "current account", "thank you",
        "own account", "savings account",
    ),
    "other": ("cleaning", "cleaner", "windows", "window cleaning", "odd jobs"),
}
# fmt: on
