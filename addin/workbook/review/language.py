"""Every text a reviewer reads in the workbook, in French and German: the proposals' reasons,
the exclusions' reasons, the Check column, the Journal and Control's computed values.

The domain says a ``Text`` in English with a key and its parameters (addin/domain/texts.py);
``say`` puts it in the workbook's language. A key without a translation stays English.
"""

from __future__ import annotations

from typing import Any

from addin.domain.texts import Text

# key -> (French, German); the parameters are those the domain gives in English.
TEXTS: dict[str, tuple[str, str]] = {
    # why a small item does not count (the Excluded sheet)
    "committed_before": ("déjà comptabilisé dans le lot {batch}",
                         "bereits im Stapel {batch} verbucht"),
    "dunning_block": ("blocage de rappel", "Mahnsperre"),
    "dispute": ("en litige", "strittig"),
    "credit_off": ("crédit (include_credits désactivé)",
                   "Gutschrift (include_credits ausgeschaltet)"),
    "not_due": ("pas encore échu (échéance {due})", "noch nicht fällig (fällig am {due})"),
    "not_overdue_enough": ("pas assez en retard ({days} jours sur {minimum})",
                           "nicht lange genug überfällig ({days} von {minimum} Tagen)"),
    "nets_to_zero": ("se compense avec les autres postes retenus de l'abonnement",
                     "gleicht sich mit den übrigen berücksichtigten Posten des Abonnements "
                     "aus"),
    # why an action is proposed (the Residuals sheet)
    "repeat": ("récidiviste : {batches} lots en 12 mois",
               "Wiederholer: {batches} Stapel in 12 Monaten"),
    "active": ("abonnement actif", "Abonnement aktiv"),
    "transfer": ("résilié ; abonnement actif facturé le plus tôt",
                 "gekündigt; aktives Abonnement mit der nächsten Rechnung"),
    "write_off": ("résilié, aucun abonnement actif, ≤ {limit}",
                  "gekündigt, kein aktives Abonnement, ≤ {limit}"),
    "keep": ("résilié, aucun abonnement actif, > {limit}",
             "gekündigt, kein aktives Abonnement, > {limit}"),
    "status_active": ("actif", "aktiv"),
    "status_terminated": ("résilié", "gekündigt"),
    "ended": ("{status} (fin le {day})", "{status} (beendet am {day})"),
    # what changed in the source since the extraction (Check)
    "subscription_gone": ("l'abonnement {subscription} n'est plus dans la source",
                          "das Abonnement {subscription} ist nicht mehr in der Quelle"),
    "customer_differs": ("l'abonnement {subscription} appartient au client {now} dans la "
                         "source, la ligne indique {was}",
                         "das Abonnement {subscription} gehört in der Quelle dem Kunden {now}, "
                         "die Zeile zeigt {was}"),
    "amount_changed": ("poste {item} : montant ouvert {now}, {was} à l'extraction",
                       "Posten {item}: offener Betrag jetzt {now}, bei der Extraktion {was}"),
    "document_changed": ("poste {item} : document {now}, {was} à l'extraction",
                         "Posten {item}: Beleg jetzt {now}, bei der Extraktion {was}"),
    "vat_changed": ("poste {item} : code TVA {now}, {was} à l'extraction",
                    "Posten {item}: MWST-Code jetzt {now}, bei der Extraktion {was}"),
    "item_new": ("le poste {item} ({amount}) compte désormais pour cette ligne ; extrayez à "
                 "nouveau",
                 "der Posten {item} ({amount}) zählt jetzt zu dieser Zeile; neu extrahieren"),
    "item_gone": ("le poste {item} n'est plus ouvert dans la source",
                  "der Posten {item} ist in der Quelle nicht mehr offen"),
    "item_moved": ("le poste {item} est sur l'abonnement {now} dans la source, pas sur {was}",
                   "der Posten {item} ist in der Quelle auf dem Abonnement {now}, nicht auf "
                   "{was}"),
    "currency_changed": ("le poste {item} est maintenant en {now}, en {was} à l'extraction",
                         "der Posten {item} ist jetzt in {now}, bei der Extraktion in {was}"),
    "item_out": ("le poste {item} ne compte pas selon les règles de l'extraction : {reason}",
                 "der Posten {item} zählt nach den Regeln der Extraktion nicht: {reason}"),
    "not_flagged": ("solde {balance} non signalé au seuil {threshold} de l'extraction : cette "
                    "ligne ne vient pas de l'extraction",
                    "Saldo {balance} liegt nicht unter der Schwelle {threshold} der Extraktion: "
                    "diese Zeile stammt nicht aus der Extraktion"),
    # decisions that cannot be committed (Check)
    "subscription_unknown": ("l'abonnement {subscription} est inconnu dans la source",
                             "das Abonnement {subscription} ist in der Quelle unbekannt"),
    "needs_active": ("{action} demande un abonnement actif : {subscription} est {state} ; "
                     "choisissez {choices}",
                     "{action} braucht ein aktives Abonnement: {subscription} ist {state}; "
                     "{choices} wählen"),
    "item_committed": ("le poste {item} a déjà été comptabilisé dans le lot {batch}",
                       "der Posten {item} wurde bereits im Stapel {batch} verbucht"),
    "item_exported": ("le poste {item} a déjà été exporté dans le lot {batch} ({file} dans le "
                      "dossier d'export)",
                      "der Posten {item} wurde bereits im Stapel {batch} exportiert ({file} "
                      "im Exportordner)"),
    "needs_target": ("{action} demande un abonnement cible",
                     "{action} braucht ein Zielabonnement"),
    "needs_other": ("{action} demande un autre abonnement que la source ; {same} facture le "
                    "même",
                    "{action} braucht ein anderes Abonnement als die Quelle; {same} "
                    "verrechnet dasselbe"),
    "target_unknown": ("la cible {target} n'est pas un abonnement connu",
                       "das Ziel {target} ist kein bekanntes Abonnement"),
    "target_customer": ("la cible {target} appartient au client {owner}, pas à {customer}",
                        "das Ziel {target} gehört dem Kunden {owner}, nicht {customer}"),
    "target_state": ("la cible {target} est {state}", "das Ziel {target} ist {state}"),
    "item_twice": ("le poste {item} est aussi à la ligne {line}",
                   "der Posten {item} steht auch auf Zeile {line}"),
    "not_yes_no": ("ni Oui ni Non : {value!r}", "weder Ja noch Nein: {value!r}"),
    "not_an_action": ("pas une action : {value!r} ({actions})",
                      "keine Aktion: {value!r} ({actions})"),
    "or": ("{first} ou {second}", "{first} oder {second}"),
    "item_edited": ("le poste {item} a été modifié depuis l'extraction (montant {amount}) ; "
                    "extrayez à nouveau",
                    "der Posten {item} wurde seit der Extraktion geändert (Betrag {amount}); "
                    "neu extrahieren"),
    "row_edited": ("cette ligne a été modifiée depuis l'extraction (abonnement, client, "
                   "monnaie, statut, solde, postes ou liste des cibles) : une colonne triée "
                   "seule ? Extrayez à nouveau",
                   "diese Zeile wurde seit der Extraktion geändert (Abonnement, Kunde, "
                   "Währung, Status, Saldo, Posten oder Zielliste): eine Spalte allein "
                   "sortiert? Neu extrahieren"),
    "no_items": ("aucun poste pour cette ligne sur la feuille Postes",
                 "keine Posten zu dieser Zeile auf dem Blatt Posten"),
    "balance_edited": ("le solde {balance} n'est pas la somme de ses postes {total} ; "
                       "extrayez à nouveau",
                       "der Saldo {balance} ist nicht die Summe seiner Posten {total}; neu "
                       "extrahieren"),
    # allowed, but worth a look (Check)
    "warn_limit": ("attention : passage en perte de {amount}, au-dessus de la limite {limit}",
                   "Achtung: Ausbuchung von {amount}, über der Limite {limit}"),
    "warn_bill_date": ("attention : {subscription} n'a pas de prochaine facturation : quand "
                       "sera-t-il facturé ?",
                       "Achtung: {subscription} hat kein nächstes Rechnungsdatum: wann wird es "
                       "fakturiert?"),
    "warn_currency": ("attention : {subscription} n'a aucun poste en {currency} dans la "
                      "source : vérifiez qu'il est facturé en {currency}",
                      "Achtung: {subscription} hat keinen Posten in {currency} in der Quelle: "
                      "prüfen, ob es in {currency} fakturiert wird"),
    # the commit's stamps and the Journal
    "stamped": ("comptabilisé le {at}", "verbucht am {at}"),
    "not_committed": ("non comptabilisé : {reasons}", "nicht verbucht: {reasons}"),
    "journal_batch": ("lot", "Stapel"),
    "journal_action": ("action", "Aktion"),
    "journal_vat": ("TVA", "MWST"),
    "journal_refused": ("refusé", "abgelehnt"),
    "journal_reversal": ("annulation", "Storno"),
    "journal_source": ("{mode} ; date comptable {day} ; fichiers : {files}",
                       "{mode}; Buchungsdatum {day}; Dateien: {files}"),
    "journal_online": ("source : {source}", "Quelle: {source}"),
    "journal_offline": ("hors ligne : postes non vérifiés dans la source",
                        "offline: Posten nicht mit der Quelle geprüft"),
    "journal_vat_detail": ("part de TVA des pertes, au compte de TVA",
                           "MWST-Anteil der Ausbuchungen, auf das MWST-Konto"),
    "journal_reverses": ("annule {batch} ; date comptable {day} ; fichiers : {files}",
                         "storniert {batch}; Buchungsdatum {day}; Dateien: {files}"),
    # Control's computed values
    "basis": ("par abonnement et monnaie : somme des postes retenus (échus depuis "
              "≥ {days} jours, non bloqués, non en litige, non comptabilisés avant)",
              "pro Abonnement und Währung: Summe der berücksichtigten Posten (seit "
              "≥ {days} Tagen überfällig, nicht gesperrt, nicht strittig, nicht schon "
              "verbucht)"),
    "yes": ("oui", "ja"),
    "no": ("non", "nein"),
    "nothing_flagged": ("rien de signalé", "nichts markiert"),
    "none": ("aucune", "keine"),
    "transit_none": ("aucune au-delà de {days} jours (rapprochement du {day})",
                     "keine über {days} Tage (abgestimmt am {day})"),
    "transit_late": ("{count} refacturation(s) non facturée(s) après {days} jours ({totals}) ; "
                     "rapprochement du {day} : voir reliquat reconcile",
                     "{count} Weiterverrechnung(en) nach {days} Tagen nicht fakturiert "
                     "({totals}); abgestimmt am {day}: siehe reliquat reconcile"),
}

_COLUMN = {"fr": 0, "de": 1}


def say(value: Any, language: str) -> Any:
    """``value`` in ``language`` when it is a ``Text`` the catalogue knows; else as it is."""
    if not isinstance(value, Text) or language not in _COLUMN:
        return value
    known = TEXTS.get(value.key)
    if known is None:
        return str(value)
    params = {name: _param(param, language) for name, param in value.params.items()}
    return known[_COLUMN[language]].format(**params)


def _param(value: Any, language: str) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(say(v, language)) for v in value)
    return say(value, language)
