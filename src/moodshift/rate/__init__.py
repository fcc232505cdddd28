"""Human validation: Self-Assessment Manikin ratings collected on a web page, and a report
comparing them with what moodshift intended each image to express.

Kept light on purpose (no imports here): `moodshift rate` loads only what each command needs.
"""
