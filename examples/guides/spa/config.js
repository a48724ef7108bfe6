// Your deployment's values.
window.gatehouseConfig = { issuer: 'https://auth.example.com', clientId: 'my-spa' };
