"""HL7 FHIR R4 export: the record translated into FHIR resources as plain dicts (JSON-ready).

`codes` holds the code systems and mappings, `resources` builds one resource from one record row
(pure: no database, no clock), `bundle` puts them together. The service that reads the record
and audits the read is `dispensing.services.fhir`. Tests validate the output with `fhir.resources`.
"""
