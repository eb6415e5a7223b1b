"""The answering machine (V1-V9): greetings, message deposit, mailbox storage."""
