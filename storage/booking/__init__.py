"""Appointments: weekly hours, slots, holds, confirmed bookings and their reminders."""
