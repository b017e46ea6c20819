// The web pixel's entry: Shopify's runtime calls tailorPixel with its analytics, browser and
// settings APIs. The logic lives in the npm package (js/npm/shopify-pixel.js).
import { register } from '@shopify/web-pixels-extension';
import { tailorPixel } from 'tailor/shopify-pixel';

register(tailorPixel);
