"""The one definition of the review workbook: sheets, columns, headers in three languages.

The writer of ``reliquat extract``, the template of the ribbon and the xlwings side all
take their sheets and columns from here; readers find columns by header in any language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from addin.domain.actions import Action

LANGUAGES = ("en", "fr", "de")
AMOUNT = "#,##0.00"  # the group separator is the locale's (1'234.50 in Switzerland)
DATE = "DD.MM.YYYY"
INTEGER = "0"
DATETIME = "DD.MM.YYYY HH:MM:SS"
TEXT = "@"


class Kind(StrEnum):
    TEXT = "text"
    AMOUNT = "amount"
    DATE = "date"
    INTEGER = "integer"
    DATETIME = "datetime"


# The number format of each kind of column (a text column keeps the cell's own).
NUMBER_FORMATS = {Kind.AMOUNT: AMOUNT, Kind.DATE: DATE, Kind.INTEGER: INTEGER,
                  Kind.DATETIME: DATETIME}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    en: str
    fr: str
    de: str
    kind: Kind = Kind.TEXT
    width: int = 14  # at most, in characters: the content may make it narrower
    hidden: bool = False
    editable: bool = False
    wrap: bool = False  # a text wider than the column goes on more lines

    def header(self, language: str) -> str:
        return str(getattr(self, language))

    @property
    def headers(self) -> tuple[str, str, str]:
        return (self.en, self.fr, self.de)


@dataclass(frozen=True, slots=True)
class Sheet:
    key: str
    en: str
    fr: str
    de: str
    columns: tuple[Column, ...]
    code_name: str
    visible: bool = True
    filtered: bool = True

    def title(self, language: str) -> str:
        return str(getattr(self, language))

    def index(self, key: str) -> int:
        """0-based position of a column."""
        for i, column in enumerate(self.columns):
            if column.key == key:
                return i
        raise KeyError(key)


C = Column
K = Kind

# Columns on more than one sheet: one header, kind and width wherever they stand.
SUBSCRIPTION = C("subscription_id", "Subscription", "Abonnement", "Abonnement")
CUSTOMER = C("customer_id", "Customer", "Client", "Kunde")
NAME = C("customer_name", "Name", "Nom", "Name", width=26, wrap=True)
CURRENCY = C("currency", "Currency", "Monnaie", "Währung", width=9)
BATCH = C("batch", "Batch", "Lot", "Stapel", width=22)
SEAL = C("seal", "_check", "_check", "_check", width=34, hidden=True)
ITEM = C("item_id", "Item", "Poste", "Posten")
DOCUMENT = C("document_no", "Document", "Document", "Beleg")
DUE_DATE = C("due_date", "Due date", "Échéance", "Fälligkeit", K.DATE, 12)
OPEN_AMOUNT = C("open_amount", "Open amount", "Montant ouvert", "Offener Betrag", K.AMOUNT)
ITEM_COUNT = C("items", "Items", "Postes", "Posten", K.INTEGER, 8)

RESIDUALS = Sheet(
    "residuals", "Residuals", "Reliquats", "Restbeträge",
    (
        SUBSCRIPTION,
        CUSTOMER,
        NAME,
        C("label", "Label", "Libellé", "Bezeichnung", width=24, wrap=True),
        C("status", "Status", "Statut", "Status", width=11),
        CURRENCY,
        C("balance", "Balance", "Solde", "Saldo", K.AMOUNT, 11),
        C("item_count", "Items", "Postes", "Posten", K.INTEGER, 8),
        C("customer_open", "Customer open balance", "Solde ouvert client",
          "Offener Saldo Kunde", K.AMOUNT, 17),
        C("customer_overdue", "Customer overdue balance", "Solde échu client",
          "Überfälliger Saldo Kunde", K.AMOUNT, 17),
        C("proposed_action", "Proposed action", "Action proposée", "Vorgeschlagene Aktion"),
        C("proposed_target", "Proposed target", "Cible proposée", "Vorgeschlagenes Ziel"),
        C("reason", "Reason", "Motif", "Begründung", width=30, wrap=True),
        C("action", "Action", "Action", "Aktion", editable=True),
        C("target", "Target subscription", "Abonnement cible", "Zielabonnement",
          editable=True),
        C("accept", "Accept", "Accepter", "Akzeptieren", width=10, editable=True),
        C("notes", "Notes", "Remarques", "Bemerkungen", width=18, editable=True, wrap=True),
        BATCH,
        C("check", "Check", "Contrôle", "Prüfung", width=26, wrap=True),
        C("alt_start", "_alt_start", "_alt_start", "_alt_start", K.INTEGER, 4, hidden=True),
        C("alt_count", "_alt_count", "_alt_count", "_alt_count", K.INTEGER, 4, hidden=True),
        SEAL,
        C("earlier_batches", "Earlier residuals", "Reliquats antérieurs", "Frühere Restbeträge",
          K.INTEGER, 12),
        C("vat_share", "VAT share if written off", "Part de TVA si passé en perte",
          "MWST-Anteil bei Ausbuchung", K.AMOUNT, 14),
    ),
    code_name="shResiduals",
)

ITEMS = Sheet(
    "items", "Items", "Postes", "Posten",
    (
        SUBSCRIPTION,
        CURRENCY,
        ITEM,
        DOCUMENT,
        C("document_date", "Document date", "Date du document", "Belegdatum", K.DATE, 12),
        DUE_DATE,
        C("days_overdue", "Days overdue", "Jours de retard", "Tage überfällig", K.INTEGER, 10),
        C("original_amount", "Original amount", "Montant initial", "Ursprungsbetrag", K.AMOUNT),
        OPEN_AMOUNT,
        CUSTOMER,
        NAME,
        BATCH,
        SEAL,
        C("vat_code", "VAT code", "Code TVA", "MWST-Code", width=9),
    ),
    code_name="shItems",
)

EXCLUDED = Sheet(
    "excluded", "Excluded", "Exclus", "Ausgeschlossen",
    (
        ITEM,
        CUSTOMER,
        NAME,
        SUBSCRIPTION,
        DOCUMENT,
        DUE_DATE,
        OPEN_AMOUNT,
        CURRENCY,
        C("reason", "Reason", "Motif", "Begründung", width=36, wrap=True),
    ),
    code_name="shExcluded",
)

REPEAT = Sheet(
    "repeat", "Repeat", "Récidivistes", "Wiederholer",
    (
        CUSTOMER,
        C("customer_name", "Name", "Nom", "Name", width=26),
        CURRENCY,
        C("batches", "Earlier batches", "Lots antérieurs", "Frühere Stapel", K.INTEGER, 13),
        ITEM_COUNT,
        C("total", "Total", "Total", "Summe", K.AMOUNT, 12),
        C("last_batch", "Last batch", "Dernier lot", "Letzter Stapel", width=22),
        C("first_batch", "First batch", "Premier lot", "Erster Stapel", width=22),
    ),
    code_name="shRepeat",
)

JOURNAL = Sheet(
    "journal", "Journal", "Journal", "Journal",
    (
        BATCH,
        C("committed_at", "Committed at", "Comptabilisé le", "Verbucht am", K.DATETIME, 19),
        C("committed_by", "Committed by", "Comptabilisé par", "Verbucht von"),
        C("line", "Line", "Ligne", "Zeile", width=10),
        C("action", "Action", "Action", "Aktion"),
        C("subscriptions", "Subscriptions", "Abonnements", "Abonnemente", K.INTEGER, 13),
        ITEM_COUNT,
        C("amount", "Amount", "Montant", "Betrag", K.AMOUNT, 12),
        CURRENCY,
        C("detail", "Detail", "Détail", "Detail", width=60, wrap=True),
    ),
    code_name="shJournal",
)

CONTROL = Sheet(
    "control", "Control", "Contrôle", "Steuerung",
    (
        C("label", "Setting", "Paramètre", "Einstellung", width=44, wrap=True),
        C("value", "Value", "Valeur", "Wert", width=50, editable=True, wrap=True),
        C("key", "_key", "_key", "_key", width=18, hidden=True),
    ),
    code_name="shControl",
    filtered=False,
)

LISTS = Sheet(
    "lists", "Lists", "Listes", "Listen",
    (
        C("actions", "actions", "actions", "actions"),
        C("accept", "accept", "accept", "accept"),
        C("alternatives", "alternatives", "alternatives", "alternatives"),
    ),
    code_name="shLists",
    visible=False,
)

SHEETS: tuple[Sheet, ...] = (CONTROL, RESIDUALS, ITEMS, EXCLUDED, REPEAT, JOURNAL, LISTS)

# Control rows: key, then the label in each language. Inputs first: what the accountant fills.
CONTROL_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("source", "Source (folder, .xlsx or database URL)", "Source (dossier, .xlsx ou URL)",
     "Quelle (Ordner, .xlsx oder Datenbank-URL)"),
    ("threshold", "Threshold (flag when 0 < |balance| ≤ this)",
     "Seuil (signalé si 0 < |solde| ≤ seuil)", "Schwelle (markiert wenn 0 < |Saldo| ≤ Schwelle)"),
    ("as_of", "As of (dd.mm.yyyy)", "Date de référence (jj.mm.aaaa)", "Stichtag (TT.MM.JJJJ)"),
    ("config", "Config file", "Fichier de configuration", "Konfigurationsdatei"),
    ("language", "Language (en, fr, de)", "Langue (en, fr, de)", "Sprache (en, fr, de)"),
    ("out_dir", "Export folder", "Dossier d'export", "Exportordner"),
    ("register", "Register", "Registre", "Register"),
    ("register_id", "Register id", "Identifiant du registre", "Register-ID"),
    ("basis", "Compared with the threshold", "Comparé au seuil", "Mit der Schwelle verglichen"),
    ("min_overdue_days", "Minimum days overdue", "Jours de retard minimum",
     "Mindestanzahl Tage überfällig"),
    ("write_off_limit", "Write-off limit", "Limite de passage en perte",
     "Limite für Ausbuchung"),
    ("include_credits", "Include credits", "Inclure les crédits", "Gutschriften einbeziehen"),
    ("extraction_id", "Extraction", "Extraction", "Extraktion"),
    ("extracted_at", "Extracted at", "Extrait le", "Extrahiert am"),
    ("extracted_by", "Extracted by", "Extrait par", "Extrahiert von"),
    ("items_read", "Items read", "Postes lus", "Gelesene Posten"),
    ("rows_flagged", "Subscriptions flagged", "Abonnements signalés", "Markierte Abonnemente"),
    ("items_flagged", "Items behind them", "Postes concernés", "Betroffene Posten"),
    ("items_excluded", "Small items excluded", "Petits postes exclus",
     "Ausgeschlossene Kleinposten"),
    ("texts_cut", "Texts cut to fit a cell (32 767 characters)",
     "Textes coupés (une cellule contient 32 767 caractères)",
     "Gekürzte Texte (eine Zelle fasst 32 767 Zeichen)"),
    ("totals", "Totals by proposal", "Totaux par proposition", "Summen nach Vorschlag"),
    ("vat_total", "VAT share of the proposed write-offs", "Part de TVA des pertes proposées",
     "MWST-Anteil der vorgeschlagenen Ausbuchungen"),
    ("transit_alert", "Rebills not invoiced in time", "Refacturations non facturées à temps",
     "Nicht rechtzeitig fakturierte Weiterverrechnungen"),
    ("tool_version", "Reliquat version", "Version de Reliquat", "Reliquat-Version"),
    ("seal", "Check value (keyed by the register)", "Valeur de contrôle (clé du registre)",
     "Prüfwert (Schlüssel des Registers)"),
)
# The rows the accountant fills in; the others are the extraction's record.
CONTROL_INPUTS = ("source", "threshold", "as_of", "config", "language", "out_dir")

ACTIONS = tuple(action.value for action in Action)  # the Action dropdown
ACCEPT_VALUES = {"en": ("Yes", "No"), "fr": ("Oui", "Non"), "de": ("Ja", "Nein")}
YES_WORDS = frozenset({"yes", "y", "oui", "o", "ja", "j", "1", "true", "x"})
NO_WORDS = frozenset({"no", "n", "non", "nein", "0", "false"})

NAME_ACTIONS = "RLQ_ACTIONS"
NAME_ACCEPT = "RLQ_ACCEPT"
NAME_ALTERNATIVES = "RLQ_ALTS"


def column_letter(index: int) -> str:
    """Spreadsheet letters of a 0-based column index: 0 -> A, 26 -> AA."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters

SHEETS_BY_KEY = {sheet.key: sheet for sheet in SHEETS}
