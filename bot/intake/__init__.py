"""Reviews in, work out: importing 中评/差评 (files and Taobao's open platform), triage, the
work queue, the contact rules, assignment and the purge of old case text."""
