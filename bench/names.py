"""Name material for a realistic customer book: companies and people from many countries.

Every locale brings its own scripts and accents. Only the "Acme-like" roots contain the
search term the benchmark looks for, so the share of matching customers is known.
"""

# Greek, Cyrillic and Turkish letters that look Latin are the point of this file.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Locale:
    country_code: str
    country: str
    cities: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    company_words: tuple[str, ...]
    company_forms: tuple[str, ...]
    streets: tuple[str, ...]
    phone_prefix: str
    # Japanese writes names without spaces and the family name first.
    joiner: str = " "
    family_first: bool = False


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


LOCALES: tuple[Locale, ...] = (
    Locale(
        "DE", "Deutschland",
        _words("Berlin,München,Köln,Düsseldorf,Nürnberg,Lübeck,Göttingen,Würzburg"),
        _words("Jürgen,Jörg,Björn,Käthe,Günther,Sören,Ursula,Matthias,Lena,Felix"),
        _words("Müller,Schröder,Weiß,Groß,Köhler,Bäcker,Fuß,Schäfer,Krüger,Vogt"),
        _words("Bäckerei,Brauerei,Möbelwerk,Elektrotechnik,Maschinenbau,Gärtnerei"),
        _words("GmbH,AG,KG,GmbH & Co. KG,e.K."),
        _words("Hauptstraße,Königsallee,Schloßstraße,Mühlenweg,Gartenstraße"),
        "+49",
    ),
    Locale(
        "FR", "France",
        _words("Paris,Orléans,Besançon,Nîmes,Périgueux,Saint-Étienne,Angoulême"),
        _words("Hélène,François,Anaïs,Jérôme,Zoé,Benoît,Cécile,Gaëlle,Noël"),
        _words("Lefèvre,Dubois,Mérignac,Gagné,Bélanger,Côté,Lemaître,Févre"),
        _words("Boulangerie,Crèmerie,Société Générale de,Ébénisterie,Librairie"),
        _words("SARL,SA,SAS,EURL"),
        _words("Rue de la Paix,Boulevard Haussmann,Allée des Tilleuls,Quai d'Orsay"),
        "+33",
    ),
    Locale(
        "PT", "Portugal",
        _words("Lisboa,Porto,Coimbra,Évora,Braga,Setúbal,Guimarães"),
        _words("João,Conceição,Gonçalo,Inês,Sebastião,Lúcia,Estêvão,Ana"),
        _words("Gonçalves,Simões,Magalhães,Araújo,Conceição,Falcão,Brandão"),
        _words("Comércio,Construções,Padaria,Têxteis,Importação,Vinhos"),
        _words("Lda,S.A.,Unipessoal Lda"),
        _words("Rua Augusta,Avenida da Liberdade,Praça do Comércio,Travessa do Carmo"),
        "+351",
    ),
    Locale(
        "BR", "Brasil",
        _words("São Paulo,Belém,Florianópolis,Maceió,Goiânia,Niterói"),
        _words("Luíza,Thiago,Antônio,Márcia,Flávio,Cauê,Letícia"),
        _words("Gonçalves,Patrício,Guimarães,Conceição,Assunção,Mendonça"),
        _words("Distribuidora,Logística,Alimentos,Engenharia,Farmácia"),
        _words("Ltda,S.A.,ME,EIRELI"),
        _words("Avenida Paulista,Rua Oscar Freire,Rua da Consolação"),
        "+55",
    ),
    Locale(
        "PL", "Polska",
        _words("Łódź,Kraków,Gdańsk,Wrocław,Poznań,Białystok,Częstochowa"),
        _words("Małgorzata,Łukasz,Grzegorz,Zofia,Wojciech,Agnieszka,Bożena"),
        _words("Wiśniewski,Żółkiewska,Szczęsny,Kowalczyk,Wójcik,Dąbrowski,Łęcki"),
        _words("Przedsiębiorstwo,Zakład,Hurtownia,Piekarnia,Usługi Budowlane"),
        _words("sp. z o.o.,S.A.,sp.j."),
        _words("ul. Marszałkowska,ul. Piotrkowska,ul. Długa,al. Jerozolimskie"),
        "+48",
    ),
    Locale(
        "TR", "Türkiye",
        _words("İstanbul,İzmir,Ankara,Eskişehir,Muğla,Çanakkale,Şanlıurfa"),
        _words("Şükrü,Çağlar,İpek,Gökhan,Özlem,Ayşe,Ümit,Doğan"),
        _words("Güneş,Yılmaz,Öztürk,Çelik,Şahin,Doğru,Aydın,Kılıç"),
        _words("Ticaret,Yazılım,Gıda,İnşaat,Tekstil,Lojistik"),
        _words("A.Ş.,Ltd. Şti."),
        _words("İstiklal Caddesi,Bağdat Caddesi,Atatürk Bulvarı"),
        "+90",
    ),
    Locale(
        "GR", "Ελλάδα",
        _words("Αθήνα,Θεσσαλονίκη,Πάτρα,Ηράκλειο,Λάρισα,Βόλος"),
        _words("Γιώργος,Μαρία,Δημήτρης,Ελένη,Νίκος,Αικατερίνη"),
        _words("Παπαδόπουλος,Οικονόμου,Γεωργίου,Νικολάου,Κωνσταντίνου"),
        _words("Αθηναϊκή,Τεχνική,Εμπορική,Ναυτιλιακή,Ξενοδοχειακή"),
        _words("Α.Ε.,Ε.Π.Ε.,Ι.Κ.Ε."),
        _words("Οδός Ερμού,Λεωφόρος Συγγρού,Οδός Τσιμισκή"),
        "+30",
    ),
    Locale(
        "UA", "Україна",
        _words("Київ,Львів,Одеса,Харків,Дніпро"),
        _words("Олександр,Ганна,Сергій,Оксана,Юлія,Тарас"),
        _words("Шевченко,Коваленко,Бондаренко,Ткаченко,Мельник"),
        _words("Київстар,Будівельна компанія,Торговий дім,Агрохолдинг"),
        _words("ТОВ,ПАТ"),
        _words("вул. Хрещатик,просп. Перемоги,вул. Франка"),
        "+380",
    ),
    Locale(
        "JP", "日本",
        _words("東京,大阪,京都,名古屋,札幌,福岡"),
        _words("太郎,花子,健太,美咲,翔太,陽菜"),
        _words("山田,田中,佐藤,鈴木,高橋,渡辺"),
        _words("製作所,商事,電機,食品,物産,トヨタ商事"),
        _words("株式会社,合同会社"),
        _words("銀座,丸の内,梅田,栄"),
        "+81",
        joiner="",
        family_first=True,
    ),
    Locale(
        "US", "United States",
        _words("New York,Chicago,Austin,Seattle,Denver,Boston"),
        _words("James,Olivia,Noah,Emma,Liam,Ava,Ethan,Sophia"),
        _words("Smith,Johnson,Williams,Brown,Jones,Garcia,Miller,Davis"),
        _words("Consulting,Holdings,Logistics,Software,Partners,Supply"),
        _words("Inc.,LLC,Corp.,Co."),
        _words("Main Street,Market Street,Broadway,Elm Street"),
        "+1",
    ),
)  # fmt: skip

# The only names that contain "acm" once folded: the Acme family and its lookalikes.
ACME_ROOTS = _words("Acme,ACME,Acmé,Acme-Werke,Acmetrix,Macmillan,Tacma,Acmesoft,Ácme,Pharmacma")
ACME_TAILS = _words("Corporation,Widgets,Industries,Logística,Supply,Tekstil,Holding,Labs")

NOTES = (
    "Prefers invoices by e-mail; net 30.",
    "Zahlung per Überweisung innerhalb von 14 Tagen.",
    "Facturer au nom de la maison mère.",
    "Pagamento via boleto até o dia 10.",
    "請求書は月末締め翌月払い。",
    "Счёт выставлять в гривнах.",
)
