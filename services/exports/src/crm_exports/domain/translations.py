"""Column header labels in the export's chosen language (R-EXP-2).

Only the labels of standard properties are translated; a custom property keeps
the label its owner gave it, and cell values are never translated. One table
holds every language so a missing translation is visible at a glance.
"""

from __future__ import annotations

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "nl", "de", "fr", "es")
DEFAULT_LANGUAGE = "en"

# property name -> (en, nl, de, fr, es)
_STANDARD_LABELS: dict[str, tuple[str, str, str, str, str]] = {
    "hs_object_id": ("Record ID", "Record-ID", "Datensatz-ID", "ID de fiche", "ID de registro"),
    "firstname": ("First Name", "Voornaam", "Vorname", "Prénom", "Nombre"),
    "lastname": ("Last Name", "Achternaam", "Nachname", "Nom", "Apellidos"),
    "email": ("Email", "E-mail", "E-Mail", "E-mail", "Correo"),
    "phone": (
        "Phone Number",
        "Telefoonnummer",
        "Telefonnummer",
        "Numéro de téléphone",
        "Número de teléfono",
    ),
    "jobtitle": ("Job Title", "Functie", "Position", "Intitulé du poste", "Cargo"),
    "company": (
        "Company Name",
        "Bedrijfsnaam",
        "Unternehmensname",
        "Nom de l'entreprise",
        "Nombre de la empresa",
    ),
    "lifecyclestage": (
        "Lifecycle Stage",
        "Levenscyclusfase",
        "Lifecycle-Phase",
        "Phase du cycle de vie",
        "Etapa del ciclo de vida",
    ),
    "hubspot_owner_id": (
        "Owner",
        "Eigenaar",
        "Zuständiger Mitarbeiter",
        "Propriétaire",
        "Propietario",
    ),
    "createdate": (
        "Create Date",
        "Aanmaakdatum",
        "Erstellungsdatum",
        "Date de création",
        "Fecha de creación",
    ),
    "lastmodifieddate": (
        "Last Modified Date",
        "Laatst gewijzigd",
        "Zuletzt geändert",
        "Date de dernière modification",
        "Fecha de última modificación",
    ),
    "name": ("Name", "Naam", "Name", "Nom", "Nombre"),
    "domain": (
        "Company Domain Name",
        "Domeinnaam bedrijf",
        "Domainname des Unternehmens",
        "Nom de domaine de l'entreprise",
        "Nombre de dominio de la empresa",
    ),
    "hs_additional_domains": (
        "Additional Domains",
        "Aanvullende domeinen",
        "Zusätzliche Domains",
        "Domaines supplémentaires",
        "Dominios adicionales",
    ),
    "dealname": (
        "Deal Name",
        "Dealnaam",
        "Name des Deals",
        "Nom de la transaction",
        "Nombre del negocio",
    ),
    "dealstage": (
        "Deal Stage",
        "Dealfase",
        "Deal-Phase",
        "Phase de la transaction",
        "Etapa del negocio",
    ),
    "amount": ("Amount", "Bedrag", "Betrag", "Montant", "Importe"),
    "closedate": (
        "Close Date",
        "Sluitingsdatum",
        "Abschlussdatum",
        "Date de fermeture",
        "Fecha de cierre",
    ),
    "pipeline": ("Pipeline", "Pijplijn", "Pipeline", "Pipeline", "Pipeline"),
    "subject": ("Ticket Name", "Ticketnaam", "Ticketname", "Nom du ticket", "Nombre del ticket"),
    "hs_pipeline_stage": (
        "Ticket Status",
        "Ticketstatus",
        "Ticketstatus",
        "Statut du ticket",
        "Estado del ticket",
    ),
    "notes_last_contacted": (
        "Last Contacted",
        "Laatst gecontacteerd",
        "Zuletzt kontaktiert",
        "Dernier contact",
        "Último contacto",
    ),
    "notes_last_updated": (
        "Last Activity Date",
        "Datum laatste activiteit",
        "Datum der letzten Aktivität",
        "Date de dernière activité",
        "Fecha de la última actividad",
    ),
    "health_score": (
        "Health Score",
        "Gezondheidsscore",
        "Health Score",
        "Score de santé",
        "Puntuación de salud",
    ),
    "health_status": (
        "Health Status",
        "Gezondheidsstatus",
        "Health-Status",
        "Statut de santé",
        "Estado de salud",
    ),
}

# association type (object type plural) -> (names column, ids column) per language,
# each as (en, nl, de, fr, es)
_ASSOCIATION_LABELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "contacts": (
        (
            "Associated Contact",
            "Gekoppeld contact",
            "Zugeordneter Kontakt",
            "Contact associé",
            "Contacto asociado",
        ),
        (
            "Associated Contact IDs",
            "ID's gekoppelde contacten",
            "IDs zugeordneter Kontakte",
            "ID des contacts associés",
            "ID de contactos asociados",
        ),
    ),
    "companies": (
        (
            "Associated Company",
            "Gekoppeld bedrijf",
            "Zugeordnetes Unternehmen",
            "Entreprise associée",
            "Empresa asociada",
        ),
        (
            "Associated Company IDs",
            "ID's gekoppelde bedrijven",
            "IDs zugeordneter Unternehmen",
            "ID des entreprises associées",
            "ID de empresas asociadas",
        ),
    ),
    "deals": (
        (
            "Associated Deal",
            "Gekoppelde deal",
            "Zugeordneter Deal",
            "Transaction associée",
            "Negocio asociado",
        ),
        (
            "Associated Deal IDs",
            "ID's gekoppelde deals",
            "IDs zugeordneter Deals",
            "ID des transactions associées",
            "ID de negocios asociados",
        ),
    ),
    "tickets": (
        (
            "Associated Ticket",
            "Gekoppeld ticket",
            "Zugeordnetes Ticket",
            "Ticket associé",
            "Ticket asociado",
        ),
        (
            "Associated Ticket IDs",
            "ID's gekoppelde tickets",
            "IDs zugeordneter Tickets",
            "ID des tickets associés",
            "ID de tickets asociados",
        ),
    ),
    "services": (
        (
            "Associated Service",
            "Gekoppelde service",
            "Zugeordneter Service",
            "Service associé",
            "Servicio asociado",
        ),
        (
            "Associated Service IDs",
            "ID's gekoppelde services",
            "IDs zugeordneter Services",
            "ID des services associés",
            "ID de servicios asociados",
        ),
    ),
}


class UnsupportedLanguage(ValueError):
    pass


def _language_index(language: str) -> int:
    try:
        return SUPPORTED_LANGUAGES.index(language.lower())
    except ValueError:
        raise UnsupportedLanguage(
            f"language {language!r} is not one of {', '.join(SUPPORTED_LANGUAGES)}"
        ) from None


def is_standard_property(property_name: str) -> bool:
    return property_name in _STANDARD_LABELS


def header_for(property_name: str, language: str, own_label: str | None = None) -> str:
    """The column header for a property: translated if standard, else its own label."""
    index = _language_index(language)
    if property_name in _STANDARD_LABELS:
        return _STANDARD_LABELS[property_name][index]
    return own_label or property_name


def association_header(association_type: str, language: str, ids: bool) -> str:
    """Header of an association column: names ("Associated Company") or ids."""
    index = _language_index(language)
    labels = _ASSOCIATION_LABELS.get(association_type)
    if labels is None:
        # A custom object: its type name stands in for the label, untranslated.
        return f"Associated {association_type}" + (" IDs" if ids else "")
    return labels[1 if ids else 0][index]
