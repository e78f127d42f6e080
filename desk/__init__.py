"""The support desk: the system of record for everything outside the bot's memory.

Plain Python over SQLAlchemy; the WhatsApp channel (in the Rasa server), the
action server and the console all call the same services here.
"""
