/*
 * afregning -- install script, version 0.1.0
 *
 * Assembled by the Makefile from the files of sql/install, one per concern,
 * in this order: types, tables, ledger guards, C functions and aggregates,
 * routing, pricing and the year lifecycle, direct charges, views, security,
 * scheduling, dump registration.
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION afregning" to load this file. \quit
