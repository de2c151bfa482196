// state.js — what the till keeps in memory and on the device: the
// session, the cart, the product list and what the page is doing. It holds
// state only; the words for it are in words.js and the drawing in views.js.
import { Money } from './money.js';
import { Cart } from './cart.js';

const LS = globalThis.localStorage;

export const S = {
  token: LS.getItem('posd.token'),
  me: readJSON('posd.me'),
  location: readJSON('posd.location'),
  products: readJSON('posd.products') || [],
  client: null,
  money: new Money('EUR'),
  cart: new Cart(LS),
  status: 'unknown',
  counts: { queued: 0, parked: 0 },
  submitting: false,
  bad: new Map(), // boxes on screen whose text is not the cart's (see sell.js)
  saleErrorKind: null, // what the message above Complete sale is about
  receiptKey: null, // the sale on the receipt view, while its number is to follow
  found: [],
  refundSale: null,
  refundKey: null,
  refundMethod: null,
  productsAt: 0,
  // who is selling (cashier.js): the cashier signed in on this till, and
  // whether the shop has cashiers at all (then a PIN is asked)
  cashier: readJSON('posd.cashier'),
  hasCashiers: readJSON('posd.hasCashiers') === true,
  // the till's shift as it last knew it (shift.js)
  shift: readJSON('posd.shift'),
  moveType: 'pay_out',
};

export function readJSON(k) {
  try {
    return JSON.parse(LS.getItem(k) || 'null');
  } catch {
    return null;
  }
}

export function writeJSON(k, v) {
  LS.setItem(k, JSON.stringify(v));
}
