"""What monitoring reads (counts, ages, codes) and the supervisors' second-route notices."""
