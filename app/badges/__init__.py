"""Open Badges: earned credentials issued as OB 3.0 verifiable credentials and OB 2.0 hosted
assertions, their issuer identities (did:web), verification pages, revocation and baked images
(LTI-CHECKLIST I; https://www.imsglobal.org/spec/ob/v3p0/, https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html)."""
