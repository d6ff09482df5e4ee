
/* The published infrastructure price (infrastrukturpris), charged since
 * 2020: 25.00 kr per citizen, half price for every citizen above 150,000. */
INSERT INTO @extschema@.charge_schedule (schedule_code, valid_from_year, from_citizens, rate)
VALUES ('infrastructure', 2020, 0, 25.00),
	   ('infrastructure', 2020, 150000, 12.50);
