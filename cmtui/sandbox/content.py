# ruff: noqa: E501 - templates read best one per line, whatever their length.
"""What the sandbox's people say: personas, vocabulary and post templates, in English and French.

Pure data. `scenario.py` picks from it with a seeded RNG and fills the `{placeholders}`:
`{brand}` (a mention of the brand's account), `{name}` (the brand's name, not a mention),
`{friend}`, `{op}` and `{victim}` (mentions of other people), `{who}` (the brand, mentioned
or named), `{product}`, `{candle}`, `{lamp}`, `{new}`/`{New}` (an announced product),
`{city}`, `{to_country}`, `{order}`, `{days}`, `{hours}`, `{budget}`, `{photo}` and
`{shop_link}` (URLs). `TITLED` holds what has a title as well (blog posts, news articles).

The brand lives on the fediverse (two Mastodon instances), on a Facebook page, on X, on
Bluesky, on its own WordPress blog and on its own Discourse community forum, and the news
writes about it; each network has its own customers. On Bluesky a handle is a domain name and the whole of a name, so the people
there have their full handle (`lea.bsky.sandbox.example`) as their username: that is also
how others write their mention.
French product names carry their article ("la bougie Ambre"), so templates only put them
where any article reads well.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmtui.sandbox.world import Person, Tone

MASTO = "mastodon.sandbox.example"
PIAILLE = "piaille.sandbox.example"
MAMOT = "mamot.sandbox.example"
TOOT = "toot.sandbox.example"
SOCIAL = "social.sandbox.example"
CHAOS = "chaos.sandbox.example"
INSTANCES = (MASTO, PIAILLE, MAMOT, TOOT, SOCIAL)
FACEBOOK = "facebook.sandbox.example"
XNET = "x.sandbox.example"
BSKY = "bsky.sandbox.example"
BLOG = "blog.maisonlumiere.example"
REDDIT = "reddit.sandbox.example"  # the sandbox's Reddit API (oauth.reddit.com's stand-in)
FORUM = "communaute.maisonlumiere.example"  # the brand's own Discourse community forum
ALERTS = "alerts.sandbox.example"  # where the Google-Alerts-style feed is served
HN = "hn.sandbox.example"  # Hacker News: its users live there, its search API is served there

BRAND_NAME = "Maison Lumière"
BRAND_USERNAME = "maisonlumiere"
BRAND_BIO = "Bougies, lampes et parfums d'intérieur coulés à la main près de Lyon. Léa vous répond."
SHOP = "https://maisonlumiere.example"
NEW_SLUGS = ("bougie-mimosa", "printemps-2026", "diffuseur-fleur-oranger", "coffret-nuit-hiver")
PHOTOS = "https://photos.sandbox.example/p/"

BRANDS = (  # the brand's two accounts: English and French, then mostly French
    Person(BRAND_USERNAME, MASTO, "Maison Lumière 🕯️", "en", "brand", 5400, BRAND_BIO),
    Person(BRAND_USERNAME, PIAILLE, "Maison Lumière", "fr", "brand", 3100, BRAND_BIO),
)
FACEBOOK_PAGE = Person(BRAND_USERNAME, FACEBOOK, "Maison Lumière", "fr", "brand", 18400, BRAND_BIO)
X_ACCOUNT = Person(BRAND_USERNAME, XNET, "Maison Lumière 🕯️", "fr", "brand", 7900, BRAND_BIO)
BSKY_ACCOUNT = Person(
    f"{BRAND_USERNAME}.{BSKY}", BSKY, "Maison Lumière 🕯️", "fr", "brand", 4300, BRAND_BIO
)
BLOG_OWNER = Person(BRAND_USERNAME, BLOG, "Léa · Maison Lumière", "fr", "brand", 1200, BRAND_BIO)
# Reddit has no display names: a person is their user name there.
REDDIT_ACCOUNT = Person(
    "MaisonLumiere_Lea", REDDIT, "MaisonLumiere_Lea", "fr", "brand", 0, BRAND_BIO
)
SUBREDDITS = {"en": "Candles", "fr": "bougies"}  # where threads go, by their language
FORUM_OWNER = Person(BRAND_USERNAME, FORUM, "Léa · Maison Lumière", "fr", "brand", 640, BRAND_BIO)

REGULARS = (  # the fediverse's
    Person("claire_dlf", PIAILLE, "Claire Dufresne-Lefèvre", "fr", "regular", 310),
    Person("elodie.m", MASTO, "Élodie 🌸", "fr", "regular", 845),
    Person("tombecker", MASTO, "Tom Becker", "en", "regular", 122),
    Person("aicha", PIAILLE, "Aïcha Benali", "fr", "regular", 530),
    Person("priya", TOOT, "Priya Raman ✨", "en", "regular", 1290),
    Person("fhebert", MAMOT, "François Hébert", "fr", "regular", 77),
    Person("samoneill", MASTO, "Sam O'Neill", "en", "regular", 401),
    Person("zoe_garnier", PIAILLE, "Zoé 🕯️ Garnier", "fr", "regular", 268),
    Person("maelle", PIAILLE, "Maëlle Kerbrat", "fr", "regular", 193),
    Person("jonasw", SOCIAL, "Jonas Weber", "en", "regular", 88),
    Person("chloe_mr", MASTO, "Chloé Martin-Roy 🍁", "fr", "regular", 640),
    Person("bencarter", TOOT, "Ben Carter", "en", "regular", 57),
    Person("ines", PIAILLE, "Inès 🌙", "fr", "regular", 980),
    Person("graceliu", MASTO, "Grace Liu", "en", "regular", 2210),
    Person("noemie", MAMOT, "Noémie Roussel", "fr", "regular", 145),
    Person("oliviaj", SOCIAL, "Olivia Jensen 🌿", "en", "regular", 376),
)
FACEBOOK_REGULARS = (  # mostly French, as the page's audience is
    Person("martine.dubois", FACEBOOK, "Martine Dubois", "fr", "regular", 240),
    Person("sylvie.perrin", FACEBOOK, "Sylvie Perrin", "fr", "regular", 410),
    Person("nathalie.roche", FACEBOOK, "Nathalie Roche 🌺", "fr", "regular", 180),
    Person("patrick.lemaire", FACEBOOK, "Patrick Lemaire", "fr", "regular", 95),
    Person("isabelle.fabre", FACEBOOK, "Isabelle Fabre", "fr", "regular", 320),
    Person("christine.marchal", FACEBOOK, "Christine Marchal", "fr", "regular", 150),
    Person("laurent.petit", FACEBOOK, "Laurent Petit", "fr", "regular", 60),
    Person("karen.mitchell", FACEBOOK, "Karen Mitchell", "en", "regular", 275),
    Person("sue.thompson", FACEBOOK, "Sue Thompson", "en", "regular", 130),
    Person("dave.wilson", FACEBOOK, "Dave Wilson", "en", "regular", 88),
)
X_REGULARS = (  # half French, half English
    Person("lucie_dcr", XNET, "Lucie 🕯️", "fr", "regular", 1320),
    Person("maxime_b", XNET, "Maxime B.", "fr", "regular", 410),
    Person("pauline_lyon", XNET, "Pauline | Lyon", "fr", "regular", 870),
    Person("thomasgrd", XNET, "Thomas Girard", "fr", "regular", 230),
    Person("katie_reads", XNET, "Katie 📚", "en", "regular", 2040),
    Person("mattharper", XNET, "Matt Harper", "en", "regular", 610),
    Person("jess_home", XNET, "Jess 🏡", "en", "regular", 905),
    Person("dan_k", XNET, "Dan K", "en", "regular", 150),
)
BSKY_REGULARS = (  # more English than elsewhere, as Bluesky's audience is
    Person(f"juliette-v.{BSKY}", BSKY, "Juliette V. 🌿", "fr", "regular", 760),
    Person(f"arnaud.{BSKY}", BSKY, "Arnaud Lefort", "fr", "regular", 215),
    Person(f"margaux.design.{BSKY}", BSKY, "Margaux · design", "fr", "regular", 1840),
    Person(f"celine-m.{BSKY}", BSKY, "Céline M.", "fr", "regular", 130),
    Person(f"hannah.{BSKY}", BSKY, "Hannah Brooks", "en", "regular", 980),
    Person(f"leo-park.{BSKY}", BSKY, "Leo Park ☕", "en", "regular", 430),
    Person(f"ruthwrites.{BSKY}", BSKY, "Ruth 📚", "en", "regular", 2650),
)
BLOG_REGULARS = (
    Person("monique", BLOG, "Monique", "fr", "regular", 0),
    Person("cecile.b", BLOG, "Cécile B.", "fr", "regular", 0),
    Person("annesophie", BLOG, "Anne-Sophie", "fr", "regular", 0),
    Person("julien", BLOG, "Julien R.", "fr", "regular", 0),
    Person("margaret", BLOG, "Margaret", "en", "regular", 0),
)
REDDIT_REGULARS = (
    Person("wick_whisperer", REDDIT, "wick_whisperer", "en", "regular", 0),
    Person("soy_or_nothing", REDDIT, "soy_or_nothing", "en", "regular", 0),
    Person("Lyon_Deco_Addict", REDDIT, "Lyon_Deco_Addict", "fr", "regular", 0),
    Person("cire_et_coton", REDDIT, "cire_et_coton", "fr", "regular", 0),
    Person("throwaway_candle_q", REDDIT, "throwaway_candle_q", "en", "regular", 0),
    Person("Mathilde-en-ville", REDDIT, "Mathilde-en-ville", "fr", "regular", 0),
)
FORUM_REGULARS = (  # the community forum's members: mostly French, a few from abroad
    Person("nathalie_c", FORUM, "Nathalie C.", "fr", "regular", 0),
    Person("bougiephile", FORUM, "Bougiephile 🕯️", "fr", "regular", 0),
    Person("marc.d", FORUM, "Marc Delorme", "fr", "regular", 0),
    Person("sophie_l", FORUM, "Sophie L.", "fr", "regular", 0),
    Person("emma_w", FORUM, "Emma Whitfield", "en", "regular", 0),
    Person("kenji", FORUM, "Kenji T.", "en", "regular", 0),
)
NEWS_WRITERS = (  # who writes the articles a Google Alert on the brand finds
    Person(
        "helene.vasseur",
        "lequotidiendeco.example",
        "Hélène Vasseur · Le Quotidien Déco",
        "fr",
        "journalist",
        12400,
    ),
    Person("marc.aubry", "lyon-eco.example", "Marc Aubry · Lyon Éco", "fr", "journalist", 5300),
    Person(
        "sophie.lin",
        "homeandliving.example",
        "Sophie Lin · Home & Living",
        "en",
        "journalist",
        8800,
    ),
    Person(
        "camille.roy",
        "atelierdeco-blog.example",
        "Camille Roy · L'Atelier Déco",
        "fr",
        "journalist",
        2100,
    ),
    Person("desk", "consumerwatch.example", "Consumer Watch", "en", "journalist", 15000),
)
# The networks that keep to themselves: what is said there never reaches a Mastodon server.
WALLED = frozenset(
    {FACEBOOK, XNET, BSKY, BLOG, HN, REDDIT, FORUM, *(writer.domain for writer in NEWS_WRITERS)}
)

JOURNALIST = Person(  # the fediverse's
    "helene_vasseur",
    MAMOT,
    "Hélène Vasseur · Le Quotidien Déco",
    "fr",
    "journalist",
    12400,
    "Journaliste maison & déco. Tuyaux bienvenus.",
)
COMPETITOR_FAN = Person(
    "team_cireetco",
    SOCIAL,
    "Bougies Forever 🔥",
    "fr",
    "competitor_fan",
    320,
    "Team Cire & Co depuis toujours.",
)
INFLUENCER = Person(
    "jade.cosyhome",
    MASTO,
    "Jade | Cosy Home ✨🏡",
    "fr",
    "influencer",
    48200,
    "Déco, cocooning et petits bonheurs. Collabs : DM.",
)
# Hostile on purpose: bidi overrides, isolates, a zero-width space and markup in the name.
TROLL = Person(
    "n0body",
    CHAOS,
    "\u202eTroll\u202c \u2066[bold]Support officiel[/bold]\u2069\u200b",
    "fr",
    "troll",
    3,
)

NEWCOMER_NAMES = {
    "fr": (
        (
            "Camille",
            "Lucas",
            "Manon",
            "Hugo",
            "Léa",
            "Théo",
            "Sarah",
            "Nathan",
            "Julie",
            "Antoine",
            "Émilie",
            "Mathis",
            "Océane",
            "Gaëtan",
            "Anaïs",
            "Baptiste",
        ),
        (
            "Morel",
            "Lambert",
            "Fontaine",
            "Chevalier",
            "Girard",
            "Mercier",
            "Blanc",
            "Guérin",
            "Faure",
            "Roux",
            "Lefèbvre",
            "Bonnet",
        ),
    ),
    "en": (
        (
            "Emma",
            "Liam",
            "Olivia",
            "Noah",
            "Ava",
            "Ethan",
            "Mia",
            "Harper",
            "James",
            "Isla",
            "Owen",
            "Ruby",
            "Finn",
            "Zara",
        ),
        (
            "Walker",
            "Hughes",
            "Patel",
            "Murphy",
            "Nguyen",
            "Brooks",
            "Reid",
            "Foster",
            "Hayes",
            "Kim",
            "O'Brien",
        ),
    ),
}
NAME_EMOJI = ("", "", "", " 🌷", " ☕", " 🐈", " 📚", " 🌻")

VOCAB: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "candle": (
            "the Ambre candle",
            "the Figue noire candle",
            "the Bois de santal candle",
            "the Thé blanc candle",
            "the Cèdre candle",
            "the Tomate verte candle",
            "the Fleur d'oranger candle",
        ),
        "lamp": ("the Opaline lamp", "the Atelier brass lamp", "the Lune bedside lamp"),
        "other": ("the Linen reed diffuser", "the Cèdre refill", "the travel tin trio"),
        "new": (
            "the Mimosa candle",
            "the Printemps collection",
            "the Fleur d'oranger diffuser",
            "the Nuit d'hiver gift box",
        ),
        "city": (
            "London",
            "Brussels",
            "Montréal",
            "Geneva",
            "New York",
            "Amsterdam",
            "Berlin",
            "Dublin",
            "Lyon",
            "Paris",
        ),
        "to_country": (
            "to Canada",
            "to the US",
            "to the UK",
            "to Switzerland",
            "to Ireland",
            "to Australia",
        ),
    },
    "fr": {
        "candle": (
            "la bougie Ambre",
            "la bougie Figue noire",
            "la bougie Bois de santal",
            "la bougie Thé blanc",
            "la bougie Cèdre",
            "la bougie Tomate verte",
            "la bougie Fleur d'oranger",
        ),
        "lamp": ("la lampe Opaline", "la lampe Atelier en laiton", "la lampe de chevet Lune"),
        "other": ("le diffuseur Lin", "la recharge Cèdre", "le trio de bougies de voyage"),
        "new": (
            "la bougie Mimosa",
            "la collection Printemps",
            "le diffuseur Fleur d'oranger",
            "le coffret Nuit d'hiver",
        ),
        "city": (
            "Lyon",
            "Paris",
            "Bordeaux",
            "Nantes",
            "Lille",
            "Rennes",
            "Marseille",
            "Toulouse",
            "Strasbourg",
            "Annecy",
        ),
        "to_country": (
            "au Canada",
            "en Belgique",
            "en Suisse",
            "au Québec",
            "aux États-Unis",
            "au Royaume-Uni",
            "en Allemagne",
        ),
    },
}

# Appended to some posts so that the same template does not read the same twice.
CLOSERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "",
            "",
            "",
            " ❤️",
            " ✨",
            " 🕯️",
            " 😍",
            " Thank you!",
            " Can't recommend enough.",
            " Honestly.",
            " 🙌",
            " Love it.",
        ),
        "neutral": (
            "",
            "",
            "",
            " Thanks!",
            " Thanks in advance 🙏",
            " 🙂",
            " Cheers.",
            " 🤔",
            " Any tips welcome.",
            " Thx",
            " 👀",
        ),
        "negative": (
            "",
            "",
            "",
            " 😡",
            " 😞",
            " Really disappointed.",
            " Not impressed.",
            " 🙄",
            " Seriously?",
            " 😤",
            " Unbelievable.",
        ),
    },
    "fr": {
        "positive": (
            "",
            "",
            "",
            " ❤️",
            " ✨",
            " 🕯️",
            " 😍",
            " Merci !",
            " Je recommande à 100 %.",
            " Franchement.",
            " 🙌",
            " J'adore.",
        ),
        "neutral": (
            "",
            "",
            "",
            " Merci !",
            " Merci d'avance 🙏",
            " 🙂",
            " Bonne journée !",
            " 🤔",
            " Vos conseils sont les bienvenus.",
            " Merci bcp",
            " 👀",
        ),
        "negative": (
            "",
            "",
            "",
            " 😡",
            " 😞",
            " Vraiment décevant.",
            " Pas sérieux.",
            " 🙄",
            " Sérieusement ?",
            " 😤",
            " Incroyable.",
        ),
    },
}

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "question": {
        "en": (
            "{brand} Hi! How long does {candle} burn, roughly? Torn between the 190 g and the 400 g.",
            "{brand} Do you ship {to_country}? And how long does it usually take?",
            "{brand} Is the wick in {candle} cotton or wood? Mine crackles a bit, just curious.",
            "{brand} Can I buy a refill for {candle} or do I need a whole new jar?",
            "{brand} do you offer gift wrapping? It's for my mum's birthday on Saturday 🎁",
            "{brand} What wax do you use? Soy, rapeseed? Asking for a friend with allergies.",
            "{brand} Which bulb goes in {lamp}? The one I had just died.",
            "{brand} Is {candle} back in stock soon? It's been sold out in {city} for weeks.",
            "{brand} how strong is the scent of {candle}? My flat is tiny 😅",
            "{brand} any chance you ship to Canada without customs surprises on delivery?",
            "Quick question for {brand}: can I add a handwritten card to order {order}? It's a gift.",
            "{brand} Hello, is {lamp} compatible with a dimmer switch?",
            "{brand} do you have a shop in {city} where I could smell the candles first?",
            "{brand} how do I recycle the empty jars? Do you take them back?",
            "{brand} should I trim the wick of {candle} before every burn? First-time owner here.",
            "{brand} how much is shipping {to_country}? I'd like to send one to my sister.",
        ),
        "fr": (
            "{brand} Bonjour ! Combien de temps brûle {candle} à peu près ? J'hésite entre le 190 g et le 400 g.",
            "{brand} Vous livrez {to_country} ? Et en combien de temps environ ?",
            "{brand} La mèche de {candle}, elle est en coton ou en bois ? La mienne crépite un peu.",
            "{brand} Il existe une recharge pour {candle} ou faut-il racheter le pot entier ?",
            "{brand} Vous faites les paquets cadeaux ? C'est pour l'anniversaire de ma mère samedi 🎁",
            "{brand} Quelle cire utilisez-vous ? Soja, colza ? Je demande pour une amie allergique.",
            "{brand} Quelle ampoule faut-il pour {lamp} ? La mienne vient de griller.",
            "{brand} {candle} revient bientôt en stock ? Introuvable à {city} depuis des semaines.",
            "{brand} Le parfum de {candle} est-il fort ? Mon appart est minuscule 😅",
            "{brand} Je peux ajouter une carte manuscrite à ma commande {order} ? C'est un cadeau.",
            "{brand} Bonjour, {lamp} est compatible avec un variateur ?",
            "{brand} Vous avez une boutique à {city} pour sentir les bougies avant d'acheter ?",
            "{brand} Comment recycler les pots vides ? Vous les reprenez en boutique ?",
            "{brand} Faut-il recouper la mèche de {candle} avant chaque allumage ? Grande première pour moi 😊",
            "{brand} Les frais de port {to_country}, c'est combien ? Je voudrais en envoyer une à ma sœur.",
            "{brand} Pour le Canada, il y a des frais de douane à la livraison ?",
        ),
    },
    "complaint": {
        "en": (
            "{brand} My order {order} was due {days} days ago. Still nothing, and no reply to my email.",
            "{brand} Received {candle} today and the glass was broken in the box. Photos: {photo}",
            "{brand} I've been waiting for my refund for {days} days now. Order {order}. What's going on?",
            "{brand} I ordered {candle} and received something else entirely. Order {order}, please fix this.",
            "{brand} tracking for {order} hasn't moved in {days} days. Is it lost?",
            "{brand} {lamp} stopped working after two weeks. Not what I expect at this price.",
            "{brand} Your customer service hasn't answered in a week. Order {order}.",
            "{brand} the lid of {candle} arrived cracked, wax all over the box {photo}",
            "{brand} charged twice for order {order}. Please refund the duplicate.",
            "{brand} {candle} tunnels badly: half the wax is left on the sides after {hours} hours.",
            "Honestly {brand}, {days} days for a delivery to {city} is far too long.",
            "{brand} the courier left my parcel out in the rain, box soaked, {candle} label ruined.",
        ),
        "fr": (
            "{brand} Ma commande {order} devait arriver il y a {days} jours. Toujours rien, et aucune réponse à mon mail.",
            "{brand} Reçu {candle} aujourd'hui, le verre était cassé dans le carton. Photos : {photo}",
            "{brand} J'attends mon remboursement depuis {days} jours. Commande {order}. Il se passe quoi ?",
            "{brand} J'ai commandé {candle} et reçu tout autre chose. Commande {order}, merci de corriger ça.",
            "{brand} Le suivi de {order} n'a pas bougé depuis {days} jours. Colis perdu ?",
            "{brand} {lamp} ne fonctionne plus après deux semaines. Pas ce que j'attends à ce prix-là.",
            "{brand} Votre service client ne répond pas depuis une semaine. Commande {order}.",
            "{brand} Le couvercle de {candle} est arrivé fendu, de la cire partout dans le carton {photo}",
            "{brand} Deux prélèvements pour la commande {order}. Merci de rembourser le doublon.",
            "{brand} {candle} fait un puits : la moitié de la cire reste sur les bords après {hours} heures.",
            "Franchement {brand}, {days} jours pour une livraison à {city}, c'est beaucoup trop long.",
            "{brand} Le livreur a laissé mon colis sous la pluie : carton trempé, étiquette de {candle} fichue.",
        ),
    },
    "praise": {
        "en": (
            "{brand} {candle} is pure magic. The whole living room smells like a cosy cabin 🕯️",
            "Thank you {brand}, {lamp} arrived perfectly packed and looks even better than in the photos.",
            "{brand} third jar of {candle} this winter, I'm officially addicted.",
            "{brand} fast delivery to {city}, beautiful packaging, lovely handwritten note. 10/10 ✨",
            "{brand} {candle} burns so cleanly, no soot at all. Worth every penny.",
            "Just lit {candle} from {brand} and my evening is instantly better.",
            "{brand} customer service sorted my issue in a day. That's how it's done 👏",
            "{brand} {lamp} + {candle} = my favourite corner of the flat.",
            "{brand} got {product} as a gift and now I understand the hype.",
            "{brand} love that you take the jars back for refills. More brands should do this 🌿",
        ),
        "fr": (
            "{brand} {candle}, c'est magique. Tout le salon sent le chalet douillet 🕯️",
            "Merci {brand}, {lamp} est arrivée parfaitement emballée, encore plus belle qu'en photo.",
            "{brand} troisième pot de {candle} cet hiver, je suis officiellement accro.",
            "{brand} livraison rapide à {city}, emballage superbe, petit mot manuscrit adorable. 10/10 ✨",
            "{brand} {candle} brûle tellement proprement, zéro suie. Ça vaut chaque centime.",
            "Je viens d'allumer {candle} de chez {brand} et ma soirée va tout de suite mieux.",
            "{brand} le service client a réglé mon souci en une journée. Chapeau 👏",
            "{brand} {lamp} + {candle} = mon coin préféré de l'appart.",
            "{brand} on m'a offert {product} et je comprends enfin l'engouement.",
            "{brand} j'adore que vous repreniez les pots pour les recharger. Plus de marques devraient faire ça 🌿",
        ),
    },
    "recommend": {
        "en": (
            "{friend} you should try {candle} from {who}, it's exactly the smell you described.",
            "{friend} for your housewarming: {who}. Trust me on {candle}.",
            "{friend} remember the candle you loved at my place? It's {candle}, from {who} 😉",
            "{friend} {who} ships to {city} now, no more excuses!",
            "{friend} looking for a gift? {who} does gift wrapping and {lamp} is gorgeous.",
            "{friend} did I tell you about {who}? Their candles last for ages, go for it.",
        ),
        "fr": (
            "{friend} tu devrais essayer {candle} de chez {who}, c'est exactement l'odeur que tu décrivais.",
            "{friend} pour ta crémaillère : {who}. Fais-moi confiance pour {candle}.",
            "{friend} tu te souviens de la bougie que tu adorais chez moi ? C'est {candle}, de chez {who} 😉",
            "{friend} {who} livre à {city} maintenant, plus d'excuse !",
            "{friend} tu cherches un cadeau ? {who} fait les paquets cadeaux et {lamp} est sublime.",
            "{friend} je t'ai parlé de {who} ? Leurs bougies tiennent des heures, fonce.",
        ),
    },
    "thread_root": {
        "en": (
            "Any ideas for a housewarming gift under {budget}€? Something nicer than another bottle of wine.",
            "Rainy evening, tea, a book and a candle. What's your cosy ritual?",
            "Looking for a bedside lamp that doesn't look like a hospital light. Recommendations?",
            "Which candles actually smell of something once lit? Mine smell great in the jar, then nothing.",
            "Mother's day is coming and I have no idea what to get 😩",
            "Just moved to {city}, the flat feels so bare. What makes a place feel like home for you?",
            "Gift for a colleague who has everything, budget {budget}€. Help?",
            "Candle people: soy or rapeseed wax, and does it really matter?",
        ),
        "fr": (
            "Des idées de cadeau de crémaillère à moins de {budget} € ? Autre chose qu'une bouteille de vin.",
            "Soirée pluvieuse, thé, bouquin et bougie. C'est quoi votre rituel cocooning ?",
            "Je cherche une lampe de chevet qui ne ressemble pas à un néon d'hôpital. Des recos ?",
            "Quelles bougies sentent vraiment quelque chose une fois allumées ? Les miennes, rien du tout.",
            "Bientôt la fête des mères et aucune idée de cadeau 😩",
            "Je viens d'emménager à {city}, l'appart fait tellement vide. Qu'est-ce qui fait « chez vous » pour vous ?",
            "Cadeau pour une collègue qui a déjà tout, budget {budget} €. Au secours ?",
            "Question aux amateurs de bougies : cire de soja ou de colza, et ça change vraiment quelque chose ?",
        ),
    },
    "third_party": {
        "en": (
            "{op} Maison Lumière, without hesitation. {candle} is my go-to.",
            "{op} I'd say Maison Lumière, a bit pricey but {lamp} is lovely.",
            "{op} the Maison Lumière ones! They burn for ages. #maisonlumiere",
            "{op} I tried Maison Lumière last month, honestly a bit overrated for the price.",
            "{op} Maison Lumière has a shop in {city}, go and smell {candle} there.",
        ),
        "fr": (
            "{op} Maison Lumière, sans hésiter. {candle}, c'est ma valeur sûre.",
            "{op} Je dirais Maison Lumière, un peu cher mais {lamp} est superbe.",
            "{op} Celles de Maison Lumière ! Elles tiennent des heures. #maisonlumiere",
            "{op} J'ai testé Maison Lumière le mois dernier, franchement un peu surcoté pour le prix.",
            "{op} Maison Lumière a une boutique à {city}, va sentir {candle} sur place.",
        ),
    },
    "announcement": {
        "en": (
            "✨ New in: {new}. Hand-poured in our workshop near Lyon, online and in our shops today. {shop_link} #maisonlumiere",
            "{New} is back! Small batch, so don't wait too long 🕯️ {shop_link}",
            "Spring is coming: discover {new}, bright and green for lighter evenings. {shop_link} #candles",
            "Free gift wrapping all week on {new} 🎁 {shop_link}",
            "Refill week! Bring your empty jars back to our shops: 15% off your refill, {new} included. #maisonlumiere #zerowaste",
        ),
        "fr": (
            "✨ Nouveauté : {new}, coulée à la main dans notre atelier près de Lyon. En ligne et en boutique dès aujourd'hui. {shop_link} #maisonlumiere",
            "{New} est de retour ! Petite série, ne tardez pas trop 🕯️ {shop_link}",
            "Le printemps arrive : découvrez {new}, lumineux et vert pour des soirées plus légères. {shop_link} #bougie",
            "Paquet cadeau offert toute la semaine sur {new} 🎁 {shop_link}",
            "Semaine de la recharge ! Rapportez vos pots vides en boutique : -15 % sur votre recharge, {new} compris. #maisonlumiere #zérodéchet",
        ),
    },
    "announcement_reply": {
        "en": (
            "{brand} Will it be available in the {city} shop too?",
            "{brand} Do you ship {new} {to_country}?",
            "{brand} Is it a limited edition or will it stay in the range?",
            "{brand} Finally! Already ordered two 😍",
            "{brand} How long does it last?",
            "{brand} Any chance of a smaller size? I'd love to try it first.",
            "{brand} Price?",
            "{brand} what does it smell like exactly? The photo is gorgeous.",
        ),
        "fr": (
            "{brand} Ce sera dispo aussi à la boutique de {city} ?",
            "{brand} Vous livrez {new} {to_country} ?",
            "{brand} C'est une édition limitée ou ça reste dans la gamme ?",
            "{brand} Enfin ! J'en ai déjà commandé deux 😍",
            "{brand} Ça tient combien de temps ?",
            "{brand} Un petit format est prévu ? J'aimerais tester avant.",
            "{brand} Prix ?",
            "{brand} Ça sent quoi exactement ? La photo est superbe.",
        ),
    },
    "journalist": {
        "en": (
            "{brand} Hello, I'm writing a piece on French artisan candles. Would you have time for a short interview this week?",
            "{brand} Hello, could you confirm a new shop is opening in {city}? Thanks!",
        ),
        "fr": (
            "{brand} Bonjour, je prépare un article sur les bougies artisanales françaises pour Le Quotidien Déco. Un court entretien cette semaine ?",
            "{brand} Bonjour, pouvez-vous me confirmer l'ouverture d'une boutique à {city} ? Merci !",
            "{brand} Bonjour, des lecteurs nous écrivent au sujet de {candle}. Auriez-vous un contact presse ?",
        ),
    },
    "competitor": {
        "en": (
            "Sorry but Cire & Co does better than {name} for half the price. #candles",
            "{brand} your candles are pretty but Cire & Co's last twice as long 🤷",
            "People paying 45€ for a {name} candle… Cire & Co exists, you know.",
            "Blind test at home: Cire & Co 3, {name} 1. #candles",
        ),
        "fr": (
            "Désolé mais Cire & Co fait mieux que {name} pour moitié prix. #bougie",
            "{brand} vos bougies sont jolies mais celles de Cire & Co tiennent deux fois plus longtemps 🤷",
            "Les gens qui paient 45 € une bougie {name}… Cire & Co existe, hein.",
            "{brand} vous avez copié le pot de Cire & Co ou c'est moi ?",
            "Test à l'aveugle chez moi : Cire & Co 3, {name} 1. #bougie",
        ),
    },
    "influencer": {
        "en": (
            "My evening ritual lately: {candle} by {brand}, a blanket and a series. Want a video of my winter decor? #maisonlumiere #cosy",
            "Unboxing of the month: {lamp} from {brand} 😍 Full review in my stories. #maisonlumiere",
            "{brand} would you be up for a giveaway with my community? 🎁",
        ),
        "fr": (
            "Mon rituel du soir en ce moment : {candle} de {brand}, plaid et série. Une vidéo sur ma déco d'hiver ? #maisonlumiere #cosy",
            "Unboxing du mois : {lamp} de chez {brand} 😍 Avis complet en story. #maisonlumiere",
            "{brand} partants pour un concours avec ma communauté ? 🎁",
            "Top 3 des bougies de l'hiver, numéro 1 : {candle} ({brand}). D'accord avec moi ? #cosy",
        ),
    },
    "crisis": {
        "en": (
            "{brand} the glass of my Ambre candle just cracked while burning. Lot 42 on the sticker. That's dangerous. {photo}",
            "{brand} Ambre candle, lot 42: the glass split in two after an hour. Wax all over my sideboard. Is there a recall?",
            "Careful if you have the Maison Lumière Ambre candle, lot 42: mine cracked on the table. {brand} #lot42",
            "{brand} second Ambre jar from lot 42 that cracks in my house. What's going on with this batch?",
            "{brand} my Ambre candle (lot 42) cracked and burnt the table. I want an explanation, not a discount code.",
            "PSA: check the lot number under your {name} Ambre candle. Lot 42 = cracked glass for several of us. #lot42 #maisonlumiere",
            "{brand} lot 42, Ambre, the glass cracked. My kids were in the room. Not OK.",
            "{brand} any statement about the Ambre lot 42 glass cracking? Photos are everywhere.",
        ),
        "fr": (
            "{brand} le verre de ma bougie Ambre vient d'éclater pendant qu'elle brûlait. Lot 42 sur l'étiquette. C'est dangereux. {photo}",
            "{brand} Bougie Ambre, lot 42 : le verre s'est fendu en deux au bout d'une heure. De la cire partout sur le buffet. Il y a un rappel ?",
            "Attention si vous avez la bougie Ambre de Maison Lumière, lot 42 : le verre éclate. La mienne sur la table. {brand} #lot42",
            "{brand} deuxième pot Ambre du lot 42 qui éclate chez moi. Il se passe quoi avec ce lot ?",
            "{brand} ma bougie Ambre (lot 42) a éclaté et brûlé la table. Je veux une explication, pas un code promo.",
            "Vérifiez le numéro de lot sous vos bougies Ambre de {name}. Lot 42 = le verre éclate chez plusieurs d'entre nous. #lot42 #maisonlumiere",
            "{brand} lot 42, Ambre, le verre a éclaté. Mes enfants étaient dans la pièce. Inadmissible.",
            "{brand} un communiqué sur le lot 42 de la bougie Ambre ? Les photos de verre éclaté circulent partout.",
            "{brand} le verre éclate sur la bougie Ambre lot 42, ça sent le défaut de fabrication.",
        ),
    },
    # Templates that open with {victim} are replies in the victim's thread; the others stand alone.
    "echo": {
        "en": (
            '🔁 {victim}: "Ambre candle lot 42, the glass cracked". Same here. {brand} #lot42',
            "{victim} same thing happened to me last night, lot 42 too 😱",
            "Boosting for visibility: {victim} had the Ambre glass crack. If you own lot 42, stop burning it. #lot42",
            "{victim} wow. Checked mine: lot 42. Not lighting it again until {brand} says something.",
            "Third post about the Ambre lot 42 I see today. {brand} you need to address this. #lot42",
            "{victim} this is scary. Sharing so people check their candles.",
        ),
        "fr": (
            "🔁 {victim} : « bougie Ambre lot 42, le verre a éclaté ». Pareil chez moi. {brand} #lot42",
            "{victim} même chose chez moi hier soir, lot 42 aussi 😱",
            "Je relaie : chez {victim} le verre de la bougie Ambre a éclaté. Si vous avez le lot 42, ne l'allumez plus. #lot42",
            "{victim} ouah. J'ai vérifié la mienne : lot 42. Je ne l'allume plus tant que {brand} ne dit rien.",
            "Troisième message sur le lot 42 de la bougie Ambre que je vois aujourd'hui. {brand} il faut réagir. #lot42",
            "{victim} ça fait peur. Je partage pour que les gens vérifient leurs bougies.",
        ),
    },
    "followup": {
        "en": (
            "{brand} still no answer. Order {order}.",
            "{brand} day {days} and counting… anyone there?",
            "{brand} sent an email and a DM, nothing. Hello?",
        ),
        "fr": (
            "{brand} toujours aucune réponse. Commande {order}.",
            "{brand} jour {days} et toujours rien… il y a quelqu'un ?",
            "{brand} mail et message privé envoyés, aucune nouvelle. Allô ?",
        ),
    },
    "thanks_resolved": {
        "en": (
            "{brand} Thank you, that's all I needed. Filling in the form now.",
            "{brand} Thanks for the quick reply, much appreciated 🙏",
            "{brand} OK, got the refund link. Thank you!",
            "{brand} Great, thanks for sorting it out so fast.",
        ),
        "fr": (
            "{brand} Merci, c'est tout ce qu'il me fallait. Je remplis le formulaire.",
            "{brand} Merci pour la réponse rapide, c'est apprécié 🙏",
            "{brand} Bien reçu le lien de remboursement, merci !",
            "{brand} Parfait, merci d'avoir réglé ça si vite.",
        ),
    },
    "thanks_info": {
        "en": (
            "{brand} Perfect, thanks for the info!",
            "{brand} Great, that helps a lot. Ordering tonight 😊",
            "{brand} Thank you Léa, you're a star ✨",
            "{brand} Noted, thanks!",
        ),
        "fr": (
            "{brand} Super, merci pour l'info !",
            "{brand} Top, ça m'aide beaucoup. Je commande ce soir 😊",
            "{brand} Merci Léa, vous êtes au top ✨",
            "{brand} C'est noté, merci !",
        ),
    },
    "insist": {
        "en": (
            "{brand} That doesn't really answer my question…",
            "{brand} A link to the FAQ is not an answer. Order {order} is still missing.",
            "{brand} I've heard that before. When exactly?",
            "{brand} I'd rather talk to a human, please.",
        ),
        "fr": (
            "{brand} Ça ne répond pas vraiment à ma question…",
            "{brand} Un lien vers la FAQ, ce n'est pas une réponse. Ma commande {order} n'est toujours pas là.",
            "{brand} On me l'a déjà dit. Quand exactement ?",
            "{brand} J'aimerais parler à un humain, s'il vous plaît.",
        ),
    },
    # Customers answering each other under a comment or a post (Facebook, X, the blog).
    "comment_reply": {
        "en": (
            "{op} mine lasts about 50 hours, the big one even longer.",
            "{op} same question here!",
            "{op} they do ship abroad, I got mine in under a week.",
            "{op} I have it: lovely scent, but quite strong in a small room.",
            "{op} try the shop in {city}, they're really helpful.",
        ),
        "fr": (
            "{op} la mienne tient une cinquantaine d'heures, la grande encore plus.",
            "{op} je me posais la même question !",
            "{op} ils livrent à l'étranger, j'ai reçu la mienne en moins d'une semaine.",
            "{op} je l'ai : très joli parfum, mais assez puissant dans une petite pièce.",
            "{op} passez à la boutique de {city}, ils sont de bon conseil.",
        ),
    },
    # Reddit: comments under a thread about the brand (no mention: it is named already).
    "reddit_comment": {
        "en": (
            "{op} I've had their {candle} for a month, burns clean and even.",
            "{op} Honestly a bit pricey for the size, but the scent throw is great.",
            "{op} Their shop in {city} lets you smell everything before buying, worth a visit.",
            "{op} Mine tunnelled on the first burn. Trim the wick and give it a long first burn.",
        ),
        "fr": (
            "{op} J'ai leur {candle} depuis un mois, combustion propre et régulière.",
            "{op} Un peu cher pour la taille, mais le parfum diffuse vraiment bien.",
            "{op} La boutique de {city} laisse tout sentir avant d'acheter, ça vaut le détour.",
            "{op} La mienne a creusé au premier allumage. Coupez la mèche et laissez-la fondre longtemps.",
        ),
    },
    # Messenger: what people only say in private.
    "dm": {
        "en": (
            "{brand} Hello, I'd like to change the delivery address for order {order}. Can I give it to you here?",
            "{brand} Hi, is it possible to cancel order {order}? I picked the wrong size.",
            "{brand} Hello, I run a flower shop in {city} and would love to stock your candles. Who should I talk to?",
            "{brand} Hi! Could you send me the invoice for order {order}? I can't find it in my emails.",
        ),
        "fr": (
            "{brand} Bonjour, je voudrais changer l'adresse de livraison de la commande {order}. Je peux vous la donner ici ?",
            "{brand} Bonjour, est-il possible d'annuler la commande {order} ? Je me suis trompée de format.",
            "{brand} Bonjour, je tiens une boutique de fleurs à {city} et j'aimerais vendre vos bougies. À qui dois-je m'adresser ?",
            "{brand} Bonjour ! Pourriez-vous m'envoyer la facture de la commande {order} ? Je ne la retrouve pas dans mes mails.",
            "{brand} Bonjour, mon code promo ne passe pas sur la commande {order}, vous pouvez m'aider ?",
        ),
    },
    # X and Bluesky: the brand named, not mentioned; only a search for its name finds these.
    "buzz": {
        "en": (
            "Lit my first {name} candle tonight and the flat smells like a cabin in the woods. Worth it.",
            "Anyone else obsessed with {candle} from {name}? On my third jar.",
            "The {name} shop in {city} smells unreal. Walked in for a gift, left with three candles.",
            "{name} gift wrapping is the prettiest thing that happened to my week 🎁",
        ),
        "fr": (
            "Première bougie {name} allumée ce soir, l'appart sent la cabane en forêt. Ça vaut le coup.",
            "Quelqu'un d'autre est accro à {candle} de chez {name} ? J'en suis à mon troisième pot.",
            "La boutique {name} de {city} sent divinement bon. Entrée pour un cadeau, ressortie avec trois bougies.",
            "Le paquet cadeau de chez {name}, la plus jolie chose de ma semaine 🎁",
            "Soirée plaid et {candle} de chez {name}. Rien à ajouter.",
        ),
    },
    # Comments under the brand's blog posts.
    "blog_comment": {
        "en": (
            "Thank you for the tips, I never knew you had to trim the wick every time!",
            "Lovely article. I'd love to visit the workshop one day, do you have open days?",
            "Such a nice read. {candle} is my favourite, now I know why 😊",
        ),
        "fr": (
            "Merci pour les conseils, je ne savais pas qu'il fallait recouper la mèche à chaque fois !",
            "Très bel article. J'aimerais beaucoup visiter l'atelier un jour, vous faites des portes ouvertes ?",
            "Un plaisir à lire. {candle} est ma préférée, maintenant je sais pourquoi 😊",
            "Bravo pour la recharge, on voudrait plus de marques comme vous.",
        ),
    },
    "blog_question": {
        "en": (
            "Does the refill work with the old jars too, the ones from two years ago?",
            "Which wax do you use exactly? I couldn't find it on the product page.",
        ),
        "fr": (
            "La recharge marche aussi avec les anciens pots, ceux d'il y a deux ans ?",
            "Vous utilisez quelle cire exactement ? Je ne l'ai pas trouvé sur la fiche produit.",
            "L'atelier se visite ? J'habite à {city}.",
        ),
    },
    # The brand answering a topic on its community forum: the answer to each of the
    # `forum_topic` questions, in the same order.
    "forum_answer": {
        "en": (
            "Hello! Yes, {candle} can be refilled in any of our shops: bring the jars back and we take care of the rest. — Léa",
            "Thanks for asking! We ship {to_country} in 5 to 8 working days; the tracking link comes by email. — Léa",
        ),
        "fr": (
            "Bonjour, coupez la mèche à 5 mm avant chaque allumage et laissez fondre toute la surface la première fois : elle ne creusera plus. — Léa",
            "Bonjour ! Oui, {candle} se recharge dans toutes nos boutiques : rapportez les pots, on s'occupe du reste. — Léa",
            "Merci pour la question ! Nous livrons {to_country} en 5 à 8 jours ouvrés, le lien de suivi arrive par mail. — Léa",
            "Bienvenue à {city} ! Pour une grande pièce, un diffuseur tient mieux la distance ; {candle} est parfaite pour le soir. — Léa",
        ),
    },
    # A member answering the brand's answer on the forum (a reply to the brand's post).
    "forum_followup": {
        "en": (
            "Thanks, that helps! I'll try it this weekend.",
            "Thanks for the quick answer. Still waiting on order {order} though, {days} days now…",
        ),
        "fr": (
            "Merci beaucoup, je teste ce soir !",
            "Merci pour la réponse rapide, c'est très clair.",
            "Merci, mais ça fait déjà {days} jours que j'attends ma commande {order}…",
        ),
    },
    # A member calling the brand's user into a topic with an @-mention.
    "forum_mention": {
        "en": (
            "{brand} could you confirm whether {candle} is vegan? Nobody here seems sure.",
            "{brand} is there a bigger size of {candle} planned? Asking for the whole thread.",
        ),
        "fr": (
            "{brand} vous pouvez confirmer que {candle} est vegan ? Personne ici n'est sûr.",
            "{brand} est-ce que la lampe Opaline existe en version murale ? On en parle ici depuis une semaine.",
            "{brand} vous prévoyez un grand format pour {candle} ? Tout le fil se pose la question.",
        ),
    },
    # What WordPress holds for moderation: links, and first comments of unknown people.
    "held": {
        "en": (
            "Great post!!! Cheap candles on my site https://cheap-candles.example/deal",
            "Very informative, thanks. I wrote about candle care too: https://my-home-tips.example/candles",
            "First time here: do you ship {to_country}?",
        ),
        "fr": (
            "Super article !!! Bougies pas chères sur https://bougies-discount.example/promo",
            "Article très intéressant, j'en parle aussi sur mon blog : https://deco-et-moi.example/bougies",
            "Première visite ici : vous livrez {to_country} ?",
        ),
    },
}

# (title, text) of what has a title: the brand's blog posts and what the news writes.
TITLED: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "blog_post": {
        "en": (
            (
                "Inside the workshop: how we pour {new}",
                "Every candle is hand-poured in our workshop near Lyon. Léa takes you behind the scenes of {new}, from rapeseed wax to cotton wick.",
            ),
            (
                "Five habits for a candle that burns to the end",
                "Trim the wick, let the whole surface melt on the first burn, keep it away from draughts: our tips to enjoy every gram of wax.",
            ),
            (
                "Refill week: bring your jars back",
                "All week, bring your empty jars to our shops: we clean them, refill them and take 15% off your refill, {new} included.",
            ),
        ),
        "fr": (
            (
                "Dans l'atelier : comment nous coulons {new}",
                "Chaque bougie est coulée à la main dans notre atelier près de Lyon. Léa vous raconte les coulisses de {new}, de la cire de colza à la mèche en coton.",
            ),
            (
                "Cinq gestes pour qu'une bougie brûle jusqu'au bout",
                "Recouper la mèche, laisser fondre toute la surface au premier allumage, éviter les courants d'air : nos conseils pour profiter de chaque gramme de cire.",
            ),
            (
                "Semaine de la recharge : rapportez vos pots",
                "Toute la semaine, rapportez vos pots vides en boutique : nous les nettoyons, les remplissons et vous offrons 15 % sur la recharge, {new} compris.",
            ),
            (
                "Nos parfums du printemps",
                "Mimosa, fleur d'oranger, thé blanc : l'équipe a choisi ses parfums préférés pour les soirées qui rallongent, à commencer par {new}.",
            ),
        ),
    },
    # Topics members open on the brand's community forum: a title, then the first post.
    "forum_topic": {
        "en": (
            (
                "Refilling an old jar?",
                "I have two empty jars of {candle} from last winter. Can {name} refill them, or do I need new ones?",
            ),
            (
                "Shipping {to_country}: how long?",
                "Thinking of ordering {product} as a gift. How long does {name} take to ship {to_country}?",
            ),
        ),
        "fr": (
            (
                "Ma bougie creuse au milieu",
                "Après trois allumages, {candle} creuse un tunnel au centre. Je fais quelque chose de travers ?",
            ),
            (
                "Recharger un ancien pot ?",
                "J'ai deux pots vides de {candle} de l'hiver dernier. {name} peut les recharger ou il faut en racheter ?",
            ),
            (
                "Livraison {to_country} : quels délais ?",
                "Je voudrais offrir {product}. Quels sont les délais de {name} pour livrer {to_country} ?",
            ),
            (
                "Vos parfums préférés pour le salon ?",
                "On vient d'emménager à {city}. Vous conseillez quoi pour une grande pièce, {candle} ou plutôt un diffuseur ?",
            ),
        ),
    },
    "article": {
        "en": (
            (
                "The French candle makers worth knowing",
                "From Lyon, {name} hand-pours candles in small batches; {candle} has a cult following.",
            ),
            (
                "Refill culture comes to home fragrance",
                "Brands like {name} now take empty jars back in store and refill them at a discount.",
            ),
            (
                "Gift guide: ten candles under €50",
                "Our pick includes {candle} by {name}, a woody scent that fills a room without overpowering it.",
            ),
        ),
        "fr": (
            (
                "Bougies artisanales : le lyonnais {name} ouvre une boutique à {city}",
                "La marque {name}, qui coule ses bougies à la main près de Lyon, ouvre une nouvelle boutique à {city} ce printemps.",
            ),
            (
                "Cinq bougies pour un intérieur cocooning",
                "Notre sélection de la semaine, de {name} à Cire & Co : des parfums boisés pour les dernières soirées d'hiver.",
            ),
            (
                "La recharge, nouvelle tendance de la déco durable",
                "Rapporter son pot vide en boutique : {name} et d'autres marques parient sur la recharge pour réduire les déchets.",
            ),
            (
                "{name} lance {new}",
                "La marque lyonnaise {name} dévoile {new}, coulée en petite série dans son atelier.",
            ),
        ),
    },
    # Reddit threads naming the brand (a Reddit search for it finds them).
    "reddit_thread": {
        "en": (
            (
                "Anyone tried {name}? Worth the price?",
                "Saw {name} candles in a shop in {city}. Around 40 euros for {candle}. Do they burn well or is it just nice packaging?",
            ),
            (
                "{name} refill program, how does it work?",
                "Apparently {name} refills your empty jars in store. Has anyone done it? Is the discount real?",
            ),
            (
                "Best French candle brands? My list: Diptyque, Cire Trudon, {name}",
                "Looking for recommendations beyond the usual suspects. {name} has been great so far, what else should I try?",
            ),
        ),
        "fr": (
            (
                "Avis sur les bougies {name} ?",
                "On m'a offert {candle} de chez {name}. Quelqu'un connaît ? Elle tient vraiment 50 heures ?",
            ),
            (
                "{name} : livraison très lente, c'est normal ?",
                "Commande passée il y a {days} jours chez {name}, toujours rien. Vous avez eu le même souci ?",
            ),
            (
                "Bougies coulées en France : {name} ou autre ?",
                "Je cherche une bougie parfumée fabriquée en France pour un cadeau. {name} revient souvent, des retours ?",
            ),
        ),
    },
    # Reddit private messages to the brand: (subject, body).
    "reddit_pm": {
        "en": (
            (
                "Order {order}",
                "Hi, I saw you answer on r/Candles. My order {order} hasn't shipped after {days} days, can you check?",
            ),
            (
                "Wholesale question",
                "Hello, I run a small shop in {city} and would like to stock your candles. Who should I contact?",
            ),
        ),
        "fr": (
            (
                "Commande {order}",
                "Bonjour, je vous écris ici car je n'ai pas de réponse par mail : ma commande {order} n'est pas arrivée.",
            ),
            (
                "Question sur une recharge",
                "Bonjour, est-ce que je peux faire recharger {candle} dans la boutique de {city} ?",
            ),
        ),
    },
    "article_crisis": {
        "en": (
            (
                "{name} customers report cracking Ambre candle jars from lot 42",
                "Customers of French candle maker {name} say jars of its Ambre candle from lot 42 crack while burning. Photos have spread from Facebook to X since Sunday.",
            ),
            (
                "Lot 42: should you stop burning your {name} Ambre candle?",
                "Dozens of {name} customers describe the same cracked glass on the Ambre candle, lot 42. What we know, and what to do until the brand speaks.",
            ),
        ),
        "fr": (
            (
                "Bougies Ambre de {name} : des verres qui éclatent, le lot 42 en cause",
                "Depuis dimanche après-midi, des clients de {name} signalent des pots de bougie Ambre du lot 42 qui se fendent pendant la combustion. Les photos circulent de Facebook à X.",
            ),
            (
                "Lot 42 : ce que l'on sait des bougies {name} qui se fissurent",
                "Photos à l'appui, des dizaines de clients de {name} décrivent le même défaut sur la bougie Ambre, lot 42. Faut-il cesser de l'allumer ? Nos conseils en attendant la marque.",
            ),
        ),
    },
}

# Hostile on purpose: markup, actions, terminal escapes, carriage returns and bidi overrides.
# The app must show all of this literally and inertly (SAFETY.md, test list rows 1-7).
TROLL_TEXTS = (
    "{brand} [@click=app.quit]x[/] vos bougies c'est de l'arnaque [bold]SCAM[/bold] [/]"
    " \x1b]0;pwned\x07\x1b[2J",
    "[/] [$accent @click=app.screenshot('x','/tmp')]Lire la suite[/] {brand}"
    " \x1b]8;;https://evil.example\x07cliquez ici\x1b]8;;\x07 \x1b[6n",
    "{brand} <script>alert(1)</script> A\x1b]52;c;cm0gLXJmIH4=\x07B Paid\rREFUND"
    " \u202egnp.exe \x9b2J",
)


# --- Hacker News ----------------------------------------------------------------------------
# Two threads that name the brand: a Show HN by the developer of the stock tool the workshop
# uses, before the crisis, and an Ask HN about handling it, started the evening it broke out,
# whose last comments come in during the demo. HN users have a user name only.

HN_PEOPLE = tuple(
    Person(name, HN, name, lang, "regular", 0)
    for name, lang in (
        ("clemfr", "en"),
        ("tallowmaker", "en"),
        ("jgrahamc_fan", "en"),
        ("sparsearray", "en"),
        ("mlbuyer", "en"),
        ("throwaway_cm88", "en"),
        ("recallwatch", "en"),
        ("petitbateau", "fr"),
        ("oneshotlabs", "en"),
    )
)


@dataclass(frozen=True, slots=True)
class HnEntry:
    """One item of a scripted HN thread: the story (no `parent`) or a comment under the
    entry named `parent`, `minutes` after the story."""

    key: str
    author: str
    minutes: float
    text: str
    parent: str | None = None
    title: str = ""
    tone: Tone = "neutral"


HN_SHOW = (
    HnEntry(
        "story",
        "clemfr",
        0,
        "We built Mèche for my partner's candle workshop: every pour gets a lot number, every"
        " order line points at one, and the jars, wicks and wax come in by supplier batch.\n\n"
        "Our first outside user is Maison Lumière, a candle maker near Lyon. Code and demo:"
        " https://meche.sandbox.example",
        title="Show HN: Mèche – open-source lot tracking for small makers",
        tone="positive",
    ),
    HnEntry(
        "recall",
        "sparsearray",
        14,
        "How do you handle a recall? If a batch goes bad you need every order that got one.",
    ),
    HnEntry(
        "recall-op",
        "clemfr",
        31,
        "One query: lot -> order lines -> customers. Maison Lumière asked for exactly that"
        " before they signed up.",
        parent="recall",
    ),
    HnEntry(
        "bought",
        "mlbuyer",
        48,
        "I bought a Maison Lumière candle last winter and had no idea there was open source"
        " behind the shop. Neat.",
        tone="positive",
    ),
    HnEntry(
        "sheets",
        "jgrahamc_fan",
        75,
        "Why not a spreadsheet? Genuinely asking, most makers I know live in <Google Sheets>.",
    ),
    HnEntry(
        "sheets-op",
        "clemfr",
        102,
        "We did for two years. It broke the weekend two of us edited the same sheet at a market.",
        parent="sheets",
    ),
    HnEntry(
        "timing",
        "recallwatch",
        1570,
        "Funny timing: Maison Lumière has people posting cracked jars from lot 42 right now."
        " If Mèche traces lots, this is the real test.",
        tone="negative",
    ),
    HnEntry(
        "timing-op",
        "clemfr",
        1610,
        "We are pulling the list of lot 42 orders with them this afternoon. That's what it is for.",
        parent="timing",
    ),
)

HN_ASK = (
    HnEntry(
        "story",
        "throwaway_cm88",
        0,
        "A small French candle brand (Maison Lumière) has people posting photos of cracked"
        " jars from one lot all over social media today. I run a similar tiny shop. If this"
        " happened to you, what would you do first?",
        title="Ask HN: How would you handle a product defect going viral?",
    ),
    HnEntry(
        "own-it",
        "recallwatch",
        12,
        "Recall the lot publicly before anyone asks: refund, replace, and say so in the same post.",
    ),
    HnEntry(
        "fast",
        "mlbuyer",
        26,
        "Maison Lumière's replies on Mastodon have been fast, for what it's worth. Silence is"
        " the worst thing.",
        tone="positive",
    ),
    HnEntry(
        "canned",
        "tallowmaker",
        41,
        "Fast but canned: three people got the same paragraph about lot 42.",
        parent="fast",
        tone="negative",
    ),
    HnEntry(
        "glass",
        "petitbateau",
        70,
        "Le verre qui casse, c'est souvent un choc thermique : une mèche trop grosse pour le"
        " diamètre du pot.",
    ),
    HnEntry(
        "supplier",
        "sparsearray",
        150,
        "Lot 42 of the candle or lot 42 of the jars? Worth finding out before blaming the pour.",
    ),
    HnEntry(
        "update",
        "oneshotlabs",
        1000,
        "Update: Maison Lumière posted a recall of lot 42 with free replacements. Quick.",
        tone="positive",
    ),
    HnEntry(
        "playbook",
        "throwaway_cm88",
        1080,
        "Good. That's the whole playbook: own it, fix it, don't argue.",
        parent="update",
        tone="positive",
    ),
    HnEntry(
        "refund",
        "tallowmaker",
        1150,
        "Still waiting on my refund from Maison Lumière for a lot 42 jar, for the record.",
        tone="negative",
    ),
)

# The fediverse's less common posts (scenario._FediverseExtrasWriter): content warnings a
# customer puts over a complaint, and what an author adds when editing a question.
CONTENT_WARNINGS = {
    "en": ("delivery complaint", "long rant", "broken glass"),
    "fr": ("plainte livraison", "coup de gueule", "verre brisé"),
}
EDIT_NOTES = {
    "en": (" EDIT: order number 48213.", " Edit: it was the mimosa candle, not the orange one."),
    "fr": (
        " ÉDIT : commande n° 48213.",
        " Édit : c'était la bougie mimosa, pas la fleur d'oranger.",
    ),
}
